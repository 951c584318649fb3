"""Where an export keeps its temporary files: beside the output, found and removed later.

An export works in ``<out folder>/.edge-attn-export-<out name>.<pid>.tmp/`` (the traced
SavedModel) and writes the artifact through a temp file
``<out folder>/.<out name>.<pid>.<random>.tmp`` that is renamed into place
(:func:`edge_attn.runtime.artifact.write_artifact`). Both are removed when the export ends,
even on an error. An export killed outright (SIGKILL, power loss) cannot clean up; the next
export into the same folder removes what such exports left: entries whose process is gone, or
older than :data:`STALE_HOURS` (a reused pid), plus what older versions left: pid-less
``.NAME.eatt.XXXXXXXX.tmp`` files beside the output and ``edge-attn-export-*`` folders in the
system temp folder, once older than :data:`STALE_HOURS`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from edge_attn.runtime.errors import ExportError

PREFIX = ".edge-attn-export-"
STALE_HOURS = 24.0
_WORKDIR = re.compile(r"\.edge-attn-export-.+\.(\d+)\.tmp")
_ARTIFACT_TMP = re.compile(r"\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp")
_LEGACY_PREFIX = "edge-attn-export-"  # older versions: a TemporaryDirectory in /tmp
_LEGACY_TMP = re.compile(r"\..+\.eatt\.[a-z0-9_]{8}\.tmp")  # older write_artifact, no pid


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or unknowable): keep it until it is old
    return True


def _old(path: Path, now: float) -> bool:
    try:
        return now - path.lstat().st_mtime > STALE_HOURS * 3600
    except OSError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def remove_stale(folder: Path) -> list[Path]:
    """Remove what killed exports left in ``folder`` (and legacy folders in the temp dir).

    Returns:
        The removed paths.
    """
    now, removed = time.time(), []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        entries = []
    for path in entries:
        m = _WORKDIR.fullmatch(path.name) or _ARTIFACT_TMP.fullmatch(path.name)
        if (m and (not _alive(int(m.group(1))) or _old(path, now))) or (
                _LEGACY_TMP.fullmatch(path.name) and _old(path, now)):
            _remove(path)
            removed.append(path)
    legacy = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in legacy.glob(f"{_LEGACY_PREFIX}*"):
            if _old(path, now):
                _remove(path)
                removed.append(path)
    return removed


@contextlib.contextmanager
def export_workdir(out: str | os.PathLike) -> Iterator[Path]:
    """A fresh working folder beside ``out``, removed on exit; stale ones removed first.

    Args:
        out: The artifact the export will write.

    Yields:
        The working folder.

    Raises:
        ExportError: The output folder is missing or not writable.
    """
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"output folder {folder} does not exist")
    remove_stale(folder)
    work = folder / f"{PREFIX}{out.name}.{os.getpid()}.tmp"
    _remove(work)
    try:
        work.mkdir()
    except OSError as exc:
        raise ExportError(f"cannot write in {folder} ({exc.strerror})") from None
    try:
        yield work
    finally:
        _remove(work)
