"""The one module that imports a LiteRT interpreter.

Backends, in ``auto`` order of preference:

* ``ai-edge-litert`` — ``ai_edge_litert.interpreter`` (maintained; numpy 2; aarch64 wheels);
* ``tflite-runtime`` — ``tflite_runtime.interpreter`` (frozen at 2.14; numpy<2 only).

The choice can be forced with ``backend=`` (the CLI's ``--backend``) or the environment
variable ``EDGE_ATTN_BACKEND``; a forced backend that is not installed is a
:class:`~edge_attn.runtime.errors.BackendError`, never a silent fallback. Models are always
loaded from bytes (``model_content``), the one path that behaves the same on every backend
and under emulation (see benchmarks/arm64/NOTES.md).
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .constants import MODE_BACKENDS
from .errors import BackendError, InputError

ENV_VAR = "EDGE_ATTN_BACKEND"
AUTO = "auto"
LITERT = "ai-edge-litert"
TFLITE_RUNTIME = "tflite-runtime"
BACKENDS = (AUTO, LITERT, TFLITE_RUNTIME)

# backend name -> (interpreter module, distribution/version module, pip command)
_SOURCES = {
    LITERT: ("ai_edge_litert.interpreter", "ai_edge_litert", "pip install ai-edge-litert"),
    TFLITE_RUNTIME: ("tflite_runtime.interpreter", "tflite_runtime", "pip install tflite-runtime"),
}


@dataclass(frozen=True)
class Backend:
    """An importable interpreter backend.

    Attributes:
        name: ``"ai-edge-litert"`` or ``"tflite-runtime"``.
        version: The installed package version (``"unknown"`` if it does not say).
        module: The imported ``...interpreter`` module (has ``Interpreter``).
    """

    name: str
    version: str
    module: ModuleType

    def describe(self) -> str:
        """``"ai-edge-litert 2.3.0"``."""
        return f"{self.name} {self.version}"


_cache: dict[str, Backend] = {}


def requested_backend(backend: str | None = None) -> str:
    """The backend asked for: the argument, else ``$EDGE_ATTN_BACKEND``, else ``auto``.

    Raises:
        InputError: The name is not one of :data:`BACKENDS`.
    """
    name = (backend or os.environ.get(ENV_VAR) or AUTO).strip().lower()
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return name


def _version(name: str, top: str) -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(name)
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover - py3.8 without importlib.metadata
        pass
    mod = importlib.import_module(top)
    return str(getattr(mod, "__version__", "unknown"))


def _try_import(name: str) -> Backend | None:
    module_name, top, _ = _SOURCES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if not hasattr(module, "Interpreter"):
        return None
    return Backend(name, _version(name, top), module)


def get_backend(backend: str | None = None) -> Backend:
    """Import and return the interpreter backend (cached per name).

    Args:
        backend: ``auto``, ``ai-edge-litert`` or ``tflite-runtime``; ``None`` reads
            ``$EDGE_ATTN_BACKEND`` and defaults to ``auto``.

    Returns:
        The chosen :class:`Backend`.

    Raises:
        BackendError: The forced backend is missing, or (auto) none is installed; the
            message carries the pip command.
        InputError: Unknown backend name.
    """
    name = requested_backend(backend)
    if name in _cache:
        return _cache[name]
    candidates = (LITERT, TFLITE_RUNTIME) if name == AUTO else (name,)
    for cand in candidates:
        found = _try_import(cand)
        if found is not None:
            _cache[name] = found
            return found
    if name == AUTO:
        raise BackendError(
            "no LiteRT interpreter is installed; run `pip install ai-edge-litert` "
            "(or, on platforms without it, `pip install tflite-runtime` with numpy<2)")
    raise BackendError(f"backend {name!r} is not installed; run `{_SOURCES[name][2]}`")


def check_mode(mode: str, backend: str | None = None) -> None:
    """Refuse, before loading, a model whose quantization mode the backend cannot run.

    Args:
        mode: The artifact's quantization mode (e.g. ``"int4-weights"``).
        backend: Backend name, see :func:`get_backend`.

    Raises:
        BackendError: Naming the mode, the backend chosen and the backend needed.
    """
    need = MODE_BACKENDS.get(mode)
    if need is None:
        return
    be = get_backend(backend)
    if be.name not in need[0]:
        raise BackendError(
            f"{mode} models need the {' or '.join(need[0])} backend ({need[1]}), not "
            f"{be.describe()}; run `{_SOURCES[need[0][0]][2]}`, or export with another mode "
            "(int8-weights runs on both)")


def make_interpreter(model_bytes: bytes, num_threads: int | None = None,
                     backend: str | None = None,
                     delegates: bool = True) -> tuple[Any, Backend]:
    """Create an interpreter from the model's bytes (never from a path).

    Args:
        model_bytes: The TFLite flatbuffer (already checked by ``read_artifact``).
        num_threads: CPU threads for the kernels (``None``: the backend's default).
        backend: Backend name, see :func:`get_backend`.
        delegates: Apply the default delegate (XNNPACK). ``False`` uses the built-in
            kernels only, for models XNNPACK cannot prepare.

    Returns:
        ``(interpreter, backend)``.

    Raises:
        BackendError: No backend, or the interpreter rejected the model.
        InputError: ``num_threads`` < 1.
    """
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise InputError(f"num_threads must be a positive integer, got {num_threads!r}")
    be = get_backend(backend)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation notices of tflite-runtime
            extra = {} if delegates else {"experimental_op_resolver_type":
                                          be.module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
            interp = be.module.Interpreter(model_content=bytes(model_bytes),
                                           num_threads=num_threads, **extra)
    except (ValueError, RuntimeError) as exc:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise BackendError(f"{be.describe()} could not load the model: {detail}") from None
    return interp, be


def prepare_error(backend: Backend, exc: BaseException) -> BackendError:
    """The one-line error for a model whose kernels refuse it at preparation (first run).

    A well-formed model that fails to prepare is broken or was edited (e.g. an operator
    left with the wrong number of operands); the interpreter's multi-line message is folded.
    """
    detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    return BackendError(f"{backend.describe()} could not prepare the model: {detail}")
