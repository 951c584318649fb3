"""The artifact file format: one zip (stored, uncompressed) a user copies to a device.

Members: ``model.tflite`` (the LiteRT flatbuffer), ``config.json`` (kind, signatures with
shapes and dtypes, special ids, lengths, quantization, versions, sha256 of the model bytes),
``tokenizers.json`` (plain JSON tokenizers) and ``validation.json`` (the export report).
This module is the single definition of the format: export/ writes through
:func:`write_artifact`, the runtime reads through :func:`read_artifact`. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import constants as C
from .config import ArtifactConfig
from .errors import ArtifactError
from .flatbuffer import check_model

_TFLITE_IDENT = b"TFL3"
MAX_MODEL_BYTES = 512 * 1024 * 1024
"""Largest ``model.tflite`` member read (bytes); larger is refused before reading."""
MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest other member (JSON, shortlist) read (bytes); larger is refused before reading."""
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # the zip local file header, 30 bytes
_LOCAL_MAGIC = b"PK\x03\x04"
# Everything zipfile, zlib and the JSON decoder raise on damaged input.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
                ValueError, EOFError, OSError, struct.error, zlib.error, UnicodeDecodeError,
                KeyError, IndexError, OverflowError, RecursionError)


@dataclass(frozen=True)
class Artifact:
    """An artifact read into memory and checked for internal consistency.

    Attributes:
        config: The parsed and checked ``config.json`` (:class:`~.config.ArtifactConfig`).
        model_bytes: The TFLite flatbuffer (its sha256 matched the config's).
        tokenizers: ``{"source": dict, "target": dict}`` (classifiers: only ``source``).
        validation: The export's validation report (may be empty).
        path: Where it was read from, if from a file.
        shortlist: The ``shortlist.bin`` member when the config declares a shortlist (its
            sha256 matched the config's).
    """

    config: ArtifactConfig
    model_bytes: bytes
    tokenizers: dict[str, Any]
    validation: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    shortlist: bytes | None = None

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def quantization(self) -> str:
        return self.config.quantization


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def write_artifact(
    path: str | os.PathLike,
    model_bytes: bytes,
    config: dict[str, Any],
    tokenizers: dict[str, Any],
    validation: dict[str, Any] | None = None,
    force: bool = False,
    shortlist: bytes | None = None,
) -> Path:
    """Write an artifact atomically (temp file in the same folder, then rename).

    Args:
        path: Destination file.
        model_bytes: TFLite flatbuffer.
        config: Config without format fields; they and the sha256 are added here.
        tokenizers: JSON-serialisable tokenizer dicts keyed by ``source`` / ``target``.
        validation: The validation report to store.
        force: Replace an existing file.
        shortlist: The ``shortlist.bin`` member (its sha256 must be in the config).

    Returns:
        The destination path.

    Raises:
        ArtifactError: The destination exists without ``force``, or its folder is missing.
    """
    dest = Path(path)
    if dest.exists() and not force:
        raise ArtifactError(f"{dest} exists; pass --force to replace it")
    if not dest.parent.is_dir():
        raise ArtifactError(f"output folder {dest.parent} does not exist")
    full = dict(config)
    full.update(format=C.FORMAT_NAME, format_version=C.FORMAT_VERSION,
                model_sha256=sha256_hex(model_bytes), model_bytes=len(model_bytes))
    # ".NAME.<pid>.<random>.tmp": the pid lets the next export tell a killed writer's file
    # from a running one's (export/workdir.py removes the former).
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp",
                               dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(C.CONFIG_MEMBER, json.dumps(full, indent=1, sort_keys=True))
            zf.writestr(C.TOKENIZERS_MEMBER, json.dumps(tokenizers, ensure_ascii=False))
            zf.writestr(C.VALIDATION_MEMBER, json.dumps(validation or {}, indent=1))
            if shortlist is not None:
                zf.writestr(C.SHORTLIST_MEMBER, shortlist)
            zf.writestr(C.MODEL_MEMBER, model_bytes)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


# Members read (others are ignored) and the largest size each may declare.
_CAPS = {C.MODEL_MEMBER: MAX_MODEL_BYTES, C.CONFIG_MEMBER: MAX_JSON_BYTES,
         C.TOKENIZERS_MEMBER: MAX_JSON_BYTES, C.VALIDATION_MEMBER: MAX_JSON_BYTES,
         C.SHORTLIST_MEMBER: MAX_JSON_BYTES}


def _member_infos(zf: zipfile.ZipFile, size: int, origin: str) -> dict[str, zipfile.ZipInfo]:
    """The known members' directory entries, each checked before any byte is read.

    Refused: duplicate names, compression other than stored, encryption, a declared size
    above the member's cap or beyond the file, a header offset outside the file.
    """
    infos = zf.infolist()
    names = [i.filename for i in infos]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ArtifactError(f"{origin}: corrupt artifact (duplicate member {dupes[0]!r})")
    missing = [m for m in C.REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ArtifactError(f"{origin}: not an edge-attn artifact (missing {', '.join(missing)})")
    known = {i.filename: i for i in infos if i.filename in _CAPS}
    for name, info in known.items():
        _check_info(info, _CAPS[name], size, origin)
    return known


def _check_info(info: zipfile.ZipInfo, cap: int, size: int, origin: str) -> None:
    """Refuse one directory entry the format never writes (see :func:`_member_infos`)."""
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED:
        raise ArtifactError(f"{origin}: {name} is compressed (method {info.compress_type}); "
                            "artifacts store members uncompressed")
    if info.flag_bits & 0x1:
        raise ArtifactError(f"{origin}: {name} is encrypted; artifacts are never encrypted")
    if info.file_size > cap:
        raise ArtifactError(f"{origin}: {name} declares {info.file_size:,} bytes, more than "
                            f"the {cap:,}-byte limit")
    if info.file_size != info.compress_size or info.file_size > size:
        raise ArtifactError(f"{origin}: corrupt artifact ({name} declares {info.file_size:,} "
                            f"bytes in a {size:,}-byte file)")
    if not 0 <= info.header_offset <= size - _LOCAL_HEADER.size - info.file_size:
        raise ArtifactError(f"{origin}: corrupt artifact ({name} lies outside the file)")


def _check_local_header(data: bytes, info: zipfile.ZipInfo, origin: str) -> None:
    """The member's local header: magic, method and flags agree with the directory."""
    magic, _, flags, method, *_ = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if magic != _LOCAL_MAGIC or method != zipfile.ZIP_STORED or flags & 0x1:
        raise ArtifactError(f"{origin}: corrupt artifact (bad local header of {info.filename})")


def _read_members(data: bytes, origin: str) -> dict[str, bytes]:
    """The known members' bytes; every zip or decoding failure becomes ArtifactError."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS:
        raise ArtifactError(f"{origin}: not an edge-attn artifact (not a zip archive; "
                            "truncated or foreign file)") from None
    with zf:
        try:
            infos = _member_infos(zf, len(data), origin)
            out = {}
            for name, info in infos.items():
                _check_local_header(data, info, origin)
                out[name] = zf.read(info)
        except ArtifactError:
            raise
        except _READ_ERRORS as exc:
            raise ArtifactError(f"{origin}: corrupt artifact ({_describe(exc)})") from None
    return out


def _describe(exc: BaseException) -> str:
    """A one-line description of a low-level read error."""
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_json(members: dict[str, bytes], name: str, origin: str) -> Any:
    """The member parsed as strict JSON (no NaN/Infinity); ``None`` if it is absent."""
    if name not in members:
        return None
    try:
        value = json.loads(members[name].decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArtifactError(f"{origin}: {name} is not valid JSON ({_describe(exc)})") from None
    if name != C.CONFIG_MEMBER and not isinstance(value, dict):
        raise ArtifactError(f"{origin}: {name} must hold a JSON object, "
                            f"not {type(value).__name__}")
    return value

def read_artifact(source: str | os.PathLike | bytes) -> Artifact:
    """Read and check an artifact before any interpreter sees its bytes.

    Checks: it is a zip with the required members, the format name and version are known,
    the model kind is known, the model bytes carry the TFLite identifier, and their sha256
    equals the one in the config.

    Args:
        source: A path, or the artifact's bytes.

    Returns:
        The checked :class:`Artifact`.

    Raises:
        ArtifactError: Missing, unreadable, corrupt, truncated, foreign or newer-format file.
    """
    origin = "<bytes>" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        p = Path(source)
        if not p.is_file():
            raise ArtifactError(f"{origin}: no such artifact file")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{origin}: cannot read ({exc.strerror})") from None
    members = _read_members(data, origin)
    config = _parse_json(members, C.CONFIG_MEMBER, origin)
    tokenizers = _parse_json(members, C.TOKENIZERS_MEMBER, origin)
    validation = _parse_json(members, C.VALIDATION_MEMBER, origin) or {}
    model_bytes = members[C.MODEL_MEMBER]
    config = ArtifactConfig.from_dict(config, origin)
    if len(model_bytes) < 8 or model_bytes[4:8] != _TFLITE_IDENT:
        raise ArtifactError(f"{origin}: {C.MODEL_MEMBER} is not a TFLite flatbuffer")
    if sha256_hex(model_bytes) != config.model_sha256:
        raise ArtifactError(f"{origin}: model checksum mismatch (file corrupted or edited)")
    check_model(model_bytes, origin)
    missing = [k for k in config.tokenizer_specs()
               if not isinstance(tokenizers.get(k), dict)]
    if missing:
        raise ArtifactError(f"{origin}: {C.TOKENIZERS_MEMBER} lacks the "
                            f"{' and '.join(missing) or 'expected'} tokenizer")
    return Artifact(config, model_bytes, tokenizers, validation,
                    None if isinstance(source, bytes) else origin,
                    _shortlist(members, config, origin))


def _shortlist(members: dict[str, bytes], config: ArtifactConfig, origin: str) -> bytes | None:
    """The ``shortlist.bin`` member a config declares, its checksum checked."""
    declared = config.seq2seq.shortlist if config.seq2seq is not None else None
    if declared is None:
        return None
    data = members.get(C.SHORTLIST_MEMBER)
    if data is None:
        raise ArtifactError(f"{origin}: config declares a shortlist but "
                            f"{C.SHORTLIST_MEMBER} is missing")
    if sha256_hex(data) != declared.sha256:
        raise ArtifactError(f"{origin}: {C.SHORTLIST_MEMBER} checksum mismatch "
                            "(file corrupted or edited)")
    return data
