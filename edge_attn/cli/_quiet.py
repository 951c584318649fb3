"""Keep native libraries' start-up chatter away from the CLI's user.

TensorFlow (absl's "All log messages before absl::InitializeLog()", oneDNN notices, the
converter's ``fully_quantize: 0, inference_type: 6 …``) and LiteRT (``INFO: Created
TensorFlow Lite XNNPACK delegate for CPU.``) write to file descriptor 2 from C++, so Python's
logging settings cannot silence them. :func:`native_stderr` points descriptor 2 at a temp
file around the library calls: on success or an edge-attn error (one clear line) what was
captured is dropped; on any other failure it is written to stderr before the error line, so
nothing that explains an unexpected failure is lost.
``edge-attn --verbose`` captures nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import TextIO

import click

from edge_attn.runtime.errors import EdgeAttnError


def is_verbose() -> bool:
    """Whether the running ``edge-attn`` was given ``--verbose``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and (ctx.find_root().obj or {}).get("verbose"))


def quiet_environment() -> None:
    """Ask TensorFlow and LiteRT for errors only (before either is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _flush_stderr() -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()


def _on_descriptor_2(stream: TextIO) -> bool:
    """Whether ``stream`` writes to descriptor 2 (not, e.g., a test runner's buffer)."""
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def native_stderr() -> Iterator[TextIO]:
    """Capture file descriptor 2 inside the block (unless ``--verbose``).

    Yields:
        A text stream for the CLI's own stderr lines meanwhile (progress bars): the real
        stderr, or ``sys.stderr`` when that is not descriptor 2 (a test runner's buffer).

    On an unexpected exception the captured bytes are written to stderr, then it propagates;
    on success or an :class:`EdgeAttnError` they are dropped.
    """
    if is_verbose():
        yield sys.stderr
        return
    _flush_stderr()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (daemonised): nothing to hide
        yield sys.stderr
        return
    with tempfile.TemporaryFile() as capture, \
            os.fdopen(os.dup(saved), "w", buffering=1, errors="replace") as real:
        os.dup2(capture.fileno(), 2)
        failed = False
        try:
            yield real if _on_descriptor_2(sys.stderr) else sys.stderr
        except EdgeAttnError:  # our own one-line error says what is wrong
            raise
        except BaseException:
            failed = True
            raise
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                capture.seek(0)
                real.write(capture.read().decode("utf-8", "replace"))
