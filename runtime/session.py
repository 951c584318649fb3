"""A lean caller for the signatures of one LiteRT interpreter.

``SignatureRunner.__call__`` resizes and re-allocates every input on every call. A decode loop
calls ``decode_step`` once per token, so :class:`Session` keeps, per signature, the tensor
indices of its inputs/outputs and the shapes last allocated, resizes + allocates only when a
shape changes, then sets inputs, invokes and copies outputs directly on the signature's
subgraph. It uses only the interpreter-wrapper calls that ``SignatureRunner`` itself uses in
both ai-edge-litert 2.x and tflite-runtime 2.14 (``ResizeInputTensor``, ``AllocateTensors``,
``SetTensor``, ``Invoke``, ``GetTensor``, each with a subgraph index).

Every call is stateless (state tensors are passed in and read out), so a lock around one
call (:meth:`Session.run`) is all the thread-safety needed: calls from several threads may
interleave step by step and still give the same results. A :class:`Handoff` holds the lock
for a whole sentence instead (encode, then the decode loop), so that inputs set once
(memory, keys, mask) stay in the interpreter's buffers while only token and state change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backend import make_interpreter, prepare_error
from .errors import InputError
from .workspace import after_allocation


@dataclass
class TensorSpec:
    """One signature input or output as the interpreter sees it.

    Attributes:
        name: Signature tensor name.
        index: Tensor index inside the signature's subgraph.
        shape: Shape signature (``-1`` for dynamic dims).
        dtype: numpy dtype.
        scale: Quantization scale (0.0 if the tensor is not quantized).
        zero_point: Quantization zero point.
    """

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float = 0.0
    zero_point: int = 0

    @classmethod
    def from_details(cls, name: str, d: Mapping[str, Any]) -> TensorSpec:
        sig = d.get("shape_signature")
        shape = tuple(int(x) for x in (sig if sig is not None and len(sig) else d["shape"]))
        scale, zero = d.get("quantization", (0.0, 0)) or (0.0, 0)
        return cls(name, int(d["index"]), shape, np.dtype(d["dtype"]), float(scale), int(zero))

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and self.dtype.kind in "iu" and self.dtype.itemsize <= 2


@dataclass
class Signature:
    """A signature's subgraph, its tensors and the input shapes currently allocated."""

    name: str
    subgraph: int
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    allocated: dict[str, tuple[int, ...]] = field(default_factory=dict)
    largest: dict[str, tuple[int, ...]] = field(default_factory=dict)  # per input, so far

    dequantize: bool = False  # any output a quantized integer tensor (set from outputs)
    plain: bool = False  # no quantized input or output: arrays pass through unconverted

    def __post_init__(self) -> None:
        self.dequantize = any(spec.quantized for spec in self.outputs.values())
        self.plain = not self.dequantize and not any(
            spec.quantized for spec in self.inputs.values())


@dataclass
class BoundSignature:
    """A signature held by a :class:`Handoff` block: the raw wrapper calls of a decode loop.

    Attributes:
        wrapper: The interpreter wrapper (``SetTensor`` / ``Invoke`` / ``GetTensor``).
        subgraph: The signature's subgraph index.
        inputs: Tensor indices of the changing inputs, in the order given to the handoff.
        outputs: Tensor indices of the outputs read, in the order given to the handoff.
    """

    wrapper: Any
    subgraph: int
    inputs: list[int]
    outputs: list[int]

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Set the changing inputs (exact dtype and shape), invoke, return output copies."""
        w, sub = self.wrapper, self.subgraph
        for index, arr in zip(self.inputs, arrays):
            w.SetTensor(index, arr, sub)
        w.Invoke(sub)
        return [w.GetTensor(i, sub) for i in self.outputs]


class Session:
    """Runs the signatures of one model with minimal overhead; thread-safe per call.

    Args:
        model_bytes: The TFLite flatbuffer.
        num_threads: Interpreter CPU threads.
        backend: Backend name (see :func:`edge_attn.runtime.backend.get_backend`).

    Attributes:
        backend: The :class:`~edge_attn.runtime.backend.Backend` in use.
        signatures: Signature name → :class:`Signature`.
    """

    def __init__(self, model_bytes: bytes, num_threads: int | None = None,
                 backend: str | None = None) -> None:
        self._lock = threading.Lock()
        self._binder: int | None = None  # thread id inside a Handoff block, if any
        self.delegate = "xnnpack"
        try:
            self._open(model_bytes, num_threads, backend, delegates=True)
            self._probe()
        except RuntimeError as exc:
            if "XNNPACK" not in str(exc):
                raise prepare_error(self.backend, exc) from None
            # XNNPACK cannot prepare some quantized graphs (e.g. int8 LSTM); the built-in
            # kernels run them. Decided once, at load, so the decode loop stays lean.
            self.delegate = "none (XNNPACK could not prepare the model)"
            try:
                self._open(model_bytes, num_threads, backend, delegates=False)
                self._probe()
            except RuntimeError as exc2:
                raise prepare_error(self.backend, exc2) from None

    def _open(self, model_bytes: bytes, num_threads: int | None, backend: str | None,
              delegates: bool) -> None:
        self._interp, self.backend = make_interpreter(model_bytes, num_threads, backend,
                                                      delegates)
        # The whole-interpreter allocation applies the default (lazy) XNNPACK delegate in
        # tflite-runtime 2.14; signatures alone allocate their subgraphs without it (float
        # models then ran on the built-in kernels there). Before any signature runner exists.
        self._interp.allocate_tensors()
        self._wrapper = self._interp._interpreter  # the wrapper SignatureRunner itself uses
        self._reprepare = delegates and self.backend.name == "tflite-runtime"  # .workspace
        self.signatures: dict[str, Signature] = {}
        for name in self._interp.get_signature_list():
            runner = self._interp.get_signature_runner(name)
            ins = {k: TensorSpec.from_details(k, d) for k, d in runner.get_input_details().items()}
            outs = {k: TensorSpec.from_details(k, d)
                    for k, d in runner.get_output_details().items()}
            self.signatures[name] = Signature(name, int(runner._subgraph_index), ins, outs)

    def _probe(self) -> None:
        """Run every signature once (batch 1) so delegate failures show at load.

        Ones, not zeros: an all-zero mask / all-padding input is not a real input and some
        quantized kernels reject it.
        """
        for name, sig in self.signatures.items():
            self.run(name, {k: np.ones([1 if d < 0 else d for d in spec.shape], spec.dtype)
                            for k, spec in sig.inputs.items()})

    def run(self, name: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run signature ``name`` on ``inputs`` (every input, by name).

        Float values fed to quantized integer inputs are quantized; quantized integer outputs
        are dequantized to float32.

        Args:
            name: Signature name.
            inputs: Tensor name → array (cast to the tensor's dtype, made contiguous).

        Returns:
            Output name → a copy of the output array.

        Raises:
            InputError: Unknown signature, missing/extra inputs, a wrong rank/static dim, or
                values a kernel rejects (e.g. a token id outside the vocabulary).
        """
        sig = self._signature(name)
        self._check_not_bound()
        arrays = _arrays(sig, inputs)
        w, sub = self._wrapper, sig.subgraph
        with self._lock:
            if _allocate(w, sig, arrays):
                self._allocated(sig)
            for _, index, arr in arrays:
                w.SetTensor(index, arr, sub)
            try:
                w.Invoke(sub)
            except RuntimeError as exc:  # a kernel check, e.g. a token id outside the table
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
                raise InputError(f"signature {name!r} rejected its inputs: {detail}") from None
            raw = {k: w.GetTensor(spec.index, sub) for k, spec in sig.outputs.items()}
        if sig.dequantize:
            return {k: _dequantize(sig.outputs[k], v) for k, v in raw.items()}
        return raw  # GetTensor returns copies

    def handoff(self, first: str, then: str, carry: Sequence[str], changing: Sequence[str],
                outputs: Sequence[str]) -> Handoff:
        """Prepare "run ``first`` once, then loop on ``then``" (names checked once, here).

        Args:
            first: Signature run once per call (e.g. ``encode``).
            then: Signature looped on (e.g. ``decode_step``).
            carry: Names that are outputs of ``first`` and inputs of ``then``: handed over
                inside the interpreter wrapper, never built into dicts.
            changing: Inputs of ``then`` set again on every loop call, in call order.
            outputs: Outputs of ``then`` the loop reads, in that order.

        Raises:
            InputError: Unknown names or a quantized signature (use :meth:`run`).
        """
        return Handoff(self, first, then, carry, changing, outputs)

    def _check_not_bound(self) -> None:
        """InputError instead of a deadlock when this thread already holds a handoff."""
        if self._binder == threading.get_ident():
            raise InputError("this thread is inside a Session handoff; call the bound "
                             "signature, not run() or another handoff, until the block ends")

    def _allocated(self, sig: Signature) -> None:
        """After ``sig`` was (re-)allocated (see :func:`.workspace.after_allocation`)."""
        after_allocation(self._wrapper, self.signatures.values(), sig, self._reprepare)

    def _signature(self, name: str) -> Signature:
        sig = self.signatures.get(name)
        if sig is None:
            raise InputError(f"the model has no signature {name!r}")
        return sig


class Handoff:
    """``first`` once, then a loop of ``then`` calls that change only some inputs.

    Built by :meth:`Session.handoff`. Calling it (a context manager) holds the session lock,
    runs ``first``, copies the ``carry`` outputs straight into ``then``'s inputs, sets the
    other inputs of ``then`` once, and yields a :class:`BoundSignature` whose calls set only
    the ``changing`` inputs: the interpreter keeps the rest in its input buffers (graph
    inputs are allocated for the whole run, never reused for intermediates), so a decode loop
    neither re-copies memory, keys and mask per step nor builds dicts per sentence.
    """

    def __init__(self, session: Session, first: str, then: str, carry: Sequence[str],
                 changing: Sequence[str], outputs: Sequence[str]) -> None:
        self.session = session
        self.first, self.then = session._signature(first), session._signature(then)
        for sig in (self.first, self.then):
            if not sig.plain:
                raise InputError(f"signature {sig.name!r} has quantized inputs/outputs; "
                                 "use run()")
        bad = [f"{first}.{k}" for k in carry if k not in self.first.outputs]
        bad += [f"{then}.{k}" for k in (*carry, *changing) if k not in self.then.inputs]
        bad += [f"{then}.{k}" for k in outputs if k not in self.then.outputs]
        if bad:
            raise InputError(f"no such tensors: {bad}")
        self.carry = [(k, self.first.outputs[k].index, self.then.inputs[k].index)
                      for k in carry]
        self.rest = [k for k in self.then.inputs if k not in carry]  # given per call
        self.bound = BoundSignature(session._wrapper, self.then.subgraph,
                                    [self.then.inputs[k].index for k in changing],
                                    [self.then.outputs[k].index for k in outputs])

    def __call__(self, first_inputs: Mapping[str, np.ndarray],
                 then_inputs: Mapping[str, np.ndarray], repeat: int = 1) -> _Block:
        """Run ``first`` on ``first_inputs`` and hold ``then`` for a loop (a context manager:
        ``with handoff(...) as step:``).

        Args:
            first_inputs: Every input of ``first``.
            then_inputs: Every input of ``then`` that is not carried (initial values of the
                changing ones included), already with the loop's batch size.
            repeat: Rows of ``then`` per row of ``first`` (the beams of one sentence): each
                carried row is repeated this many times.

        Returns:
            A context manager whose ``with`` block holds the bound ``then`` signature (do not
            call :meth:`Session.run` inside the block).

        Raises:
            InputError: (on entering) Missing/extra inputs, wrong dtype/shape, or called
                inside a block.
        """
        return _Block(self, first_inputs, then_inputs, repeat)

    def _enter(self, first_inputs: Mapping[str, np.ndarray],
               then_inputs: Mapping[str, np.ndarray], repeat: int) -> BoundSignature:
        s, first, then = self.session, self.first, self.then
        s._check_not_bound()
        first_arrays = _arrays(first, first_inputs)
        given = _arrays(then, then_inputs, self.rest)
        w, sub = s._wrapper, first.subgraph
        s._lock.acquire()
        try:
            if _allocate(w, first, first_arrays):
                s._allocated(first)
            for _, index, arr in first_arrays:
                w.SetTensor(index, arr, sub)
            w.Invoke(sub)
            # carried outputs are read through views (no copy) and set right away; a view is
            # taken again if allocating ``then`` re-allocated (arenas are the interpreter's)
            arrays = [(k, i, w.tensor(w, o, sub)) for k, o, i in self.carry]
            if repeat > 1:
                arrays = [(k, i, np.repeat(a, repeat, axis=0)) for k, i, a in arrays]
            arrays += given
            if _allocate(w, then, arrays):
                s._allocated(then)  # may mark ``first`` for preparing again: its outputs stay
                if repeat == 1:
                    arrays = [(k, i, w.tensor(w, o, sub)) for k, o, i in self.carry] + given
            for _, index, arr in arrays:
                w.SetTensor(index, arr, then.subgraph)
        except BaseException:
            s._lock.release()
            raise
        s._binder = threading.get_ident()
        return self.bound

    def _exit(self) -> None:
        self.session._binder = None
        self.session._lock.release()


class _Block:
    """One ``with handoff(...)`` block (a plain context manager: a generator-based one
    costs a few µs per sentence)."""

    __slots__ = ("handoff", "first_inputs", "then_inputs", "repeat")

    def __init__(self, handoff: Handoff, first_inputs: Mapping[str, np.ndarray],
                 then_inputs: Mapping[str, np.ndarray], repeat: int) -> None:
        self.handoff, self.first_inputs = handoff, first_inputs
        self.then_inputs, self.repeat = then_inputs, repeat

    def __enter__(self) -> BoundSignature:
        return self.handoff._enter(self.first_inputs, self.then_inputs, self.repeat)

    def __exit__(self, *exc: object) -> None:
        self.handoff._exit()


def _arrays(sig: Signature, inputs: Mapping[str, np.ndarray],
            names: Sequence[str] | None = None) -> list[tuple[str, int, np.ndarray]]:
    """``(name, tensor index, array)`` for the inputs ``names`` (default: every input) of
    ``sig``, cast and checked; ``inputs`` must hold exactly those names."""
    names = list(sig.inputs) if names is None else names
    arrays = []
    try:  # as many inputs as names, each name among them: exactly those names
        if len(inputs) != len(names):
            raise KeyError
        for k in names:
            spec, v = sig.inputs[k], inputs[k]
            # Fast path (the decode loop): already the right dtype, contiguous, known shape.
            if not (type(v) is np.ndarray and v.dtype == spec.dtype and v.flags.c_contiguous
                    and sig.allocated.get(k) == v.shape):
                v = _prepare(spec, v)
            arrays.append((k, spec.index, v))
    except KeyError:
        raise InputError(f"signature {sig.name!r} takes inputs {sorted(names)}, "
                         f"got {sorted(inputs)}") from None
    return arrays


def _allocate(w: Any, sig: Signature, arrays: list[tuple[str, int, np.ndarray]]) -> bool:
    """Resize the inputs whose shape changed and re-allocate (caller holds the lock);
    whether it did."""
    changed = False
    for k, index, arr in arrays:
        if sig.allocated.get(k) != arr.shape:
            w.ResizeInputTensor(index, np.array(arr.shape, np.int32), False, sig.subgraph)
            sig.allocated[k] = arr.shape
            changed = True
    if changed:
        w.AllocateTensors(sig.subgraph)
    return changed


def _prepare(spec: TensorSpec, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if spec.quantized and arr.dtype.kind == "f":
        info = np.iinfo(spec.dtype)
        arr = np.clip(np.round(arr / spec.scale) + spec.zero_point, info.min, info.max)
    arr = np.ascontiguousarray(arr, dtype=spec.dtype)
    if arr.ndim != len(spec.shape) or any(
            want not in (-1, got) for want, got in zip(spec.shape[1:], arr.shape[1:])):
        raise InputError(f"input {spec.name!r} has shape {list(arr.shape)}, "
                         f"the model expects {list(spec.shape)}")
    return arr


def _dequantize(spec: TensorSpec, arr: np.ndarray) -> np.ndarray:
    if spec.quantized:
        return ((arr.astype(np.float32) - spec.zero_point) * spec.scale).astype(np.float32)
    return arr
