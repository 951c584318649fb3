"""The callable API: a user's own ``encode`` / ``step`` functions as an edge-attn pair.

For models derive cannot split (subclassed models, the TF NMT tutorial's ``Encoder`` /
``Decoder`` / Bahdanau ``W1, W2, V`` attention, input feeding, ...) the user passes

    encode(tokens [B, S] int32, mask [B, S] float32) -> (memory [B, S, D], states)
    step(token [B] int32, states, memory, mask) -> (logits [B, V], states, attention)

where ``states`` is one tensor or a list (the same structure in and out) and ``attention`` is
[B, S] (or [B, S, 1] / [B, 1, S]); logits may also be log-probabilities. ``owners`` are the
Keras objects holding the weights (tracked so the weights are frozen into the model).

While tracing for TFLite, Keras layers inside the owners are lowered in place (their ``call``
is swapped for the duration of the trace only): embeddings → gather; LSTM/GRU/Bidirectional
over a sequence → one WHILE loop (:mod:`.rnn_loop`), over one step → the plain cell;
``Attention`` / ``AdditiveAttention`` / ``MultiHeadAttention`` → the masked softmax.
Hand-written attention runs as written (a large negative mask constant gets a warning).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from edge_attn.models.layer_calls import KERAS_CALLS, LayerCalls
from edge_attn.runtime.errors import ExportError, InputError

from .keras_attention import attend, attention_kinds
from .lowering import TFLiteCalls
from .user_classifier import _warn_big_negative


def _one_step(layer: Any, x: Any, initial_state: Any) -> Any:
    """A GRU/LSTM over a length-1 sequence as one cell call, Keras's return structure."""
    from keras import ops

    size = layer.cell.state_size
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    if initial_state is None:
        states = [ops.zeros_like(x[:, 0, :1]) * 0.0 + ops.zeros((1, n)) for n in sizes]
    else:
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
    out, new = layer.cell(x[:, 0], states)
    new = list(new) if isinstance(new, (list, tuple)) else [new]
    seq = ops.expand_dims(out, 1) if layer.return_sequences else out
    return [seq, *new] if layer.return_state else seq


def _recurrent_call(layer: Any, calls: TFLiteCalls) -> Callable[..., Any]:
    import keras
    from keras import ops

    def call(sequences, initial_state=None, mask=None, training=None, **_):
        if int(sequences.shape[1]) == 1 and not isinstance(layer, keras.layers.Bidirectional):
            return _one_step(layer, sequences, initial_state)
        if initial_state is not None:
            raise ExportError(f"cannot lower {layer.name} ({type(layer).__name__}): a "
                              "recurrence over a whole sequence must start from zero states "
                              "(drop its initial_state)")
        m = ops.ones_like(sequences[..., 0], dtype="bool") if mask is None else \
            ops.cast(mask, "bool")
        return calls.recur(layer, sequences, m)

    return call


def _attention_call(layer: Any) -> Callable[..., Any]:
    import keras
    from keras import ops

    multi = isinstance(layer, keras.layers.MultiHeadAttention)

    def call(*args, **kwargs):
        scores = kwargs.get("return_attention_scores", False)
        if multi:
            query = args[0] if args else kwargs["query"]
            value = args[1] if len(args) > 1 else kwargs["value"]
            key, vmask = kwargs.get("key"), kwargs.get("value_mask")
        else:
            inputs = args[0] if args else kwargs["inputs"]
            query, value = inputs[0], inputs[1]
            key = inputs[2] if len(inputs) > 2 else None
            vmask = (kwargs.get("mask") or [None, None])[1]
        out, w = attend(layer, query, value, key, vmask, lowered=True)
        if multi:
            w = ops.expand_dims(w, 1)  # [B, 1, T, S]: heads already averaged
        return (out, w) if scores else out

    return call


def _lowering_for(layer: Any, calls: TFLiteCalls) -> Callable[..., Any] | None:
    import keras

    if isinstance(layer, keras.layers.Embedding):
        return lambda inputs, *a, **k: calls.embed(layer, inputs)
    if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
        return _recurrent_call(layer, calls)
    if isinstance(layer, attention_kinds()):
        return _attention_call(layer)
    return None


@contextlib.contextmanager
def lowered_layers(owners: Sequence[Any], calls: LayerCalls) -> Iterator[None]:
    """Swap the ``call`` of every lowerable layer inside ``owners`` while tracing with
    :class:`~.lowering.TFLiteCalls` (nothing changes for Keras calls)."""
    if not isinstance(calls, TFLiteCalls):
        yield
        return
    patched = []
    try:
        for owner in owners:
            for layer in owner._flatten_layers(include_self=True, recursive=True):
                fn = _lowering_for(layer, calls)
                if fn is not None and "call" not in vars(layer):
                    layer.call = fn
                    patched.append(layer)
        yield
    finally:
        for layer in patched:
            del layer.call


def _state_names(n: int) -> list[str]:
    return ["state_h", "state_c", *[f"state_{i}" for i in range(2, n)]][:n]


def _weights_2d(att: Any) -> Any:
    """[B, S] from [B, S], [B, S, 1] or [B, 1, S]."""
    from keras import ops

    if len(att.shape) == 3:
        return att[..., 0] if att.shape[-1] == 1 else att[:, 0]
    if len(att.shape) != 2:
        raise ExportError(f"step returned attention of shape {tuple(att.shape)}; expected "
                          "[B, S] (or [B, S, 1] / [B, 1, S])")
    return ops.convert_to_tensor(att)


class CallableSeq2Seq:
    """A pair from user callables (see the module docstring for their contract).

    Args:
        encode: ``encode(tokens, mask) -> (memory, states)``.
        step: ``step(token, states, memory, mask) -> (logits, states, attention)``.
        owners: Keras layers/models holding every weight the callables use.
        source_len: Padded source length S.
        max_target_len: Output length limit.
        target_vocab: V (default: from one step's logits).
    """

    def __init__(self, encode: Callable, step: Callable, owners: Sequence[Any],
                 source_len: int, max_target_len: int) -> None:
        import keras

        if not callable(encode) or not callable(step):
            raise InputError("encode and step must be callables")
        owners = list(owners)
        if not owners or not all(isinstance(o, keras.layers.Layer) for o in owners):
            raise InputError("owners must list the Keras layers/models that hold the weights")
        self.owners, self._encode, self._step = owners, encode, step
        for owner in owners:
            for layer in owner._flatten_layers(include_self=True, recursive=True):
                if "attention" in type(layer).__name__.lower() \
                        and not isinstance(layer, attention_kinds()):
                    _warn_big_negative(layer)
        self.hp = {"max_source_len": int(source_len), "max_target_len": int(max_target_len)}
        self.single_state = False
        self.state_names: list[str] = []
        self._probe()

    def _probe(self) -> None:
        import numpy as np

        s = self.hp["max_source_len"]
        memory, _, states = self.encode(np.ones((1, s), "int32"), np.ones((1, s), "float32"))
        self.state_names = _state_names(len(states))
        logits, _, att = self.step(np.zeros((1,), "int32"), states, memory, memory,
                                   np.ones((1, s), "float32"))
        if tuple(att.shape) != (1, s):
            raise ExportError(f"step's attention has shape {tuple(att.shape)}, expected [B, {s}]")
        self.hp["target_vocab"] = int(logits.shape[-1])

    def encode(self, tokens: Any, mask: Any,
               calls: LayerCalls = KERAS_CALLS) -> tuple[Any, Any, list]:
        """``(memory, keys = memory, states list)``."""
        with lowered_layers(self.owners, calls):
            out = self._encode(tokens, mask)
        if not isinstance(out, (list, tuple)) or len(out) != 2:
            raise ExportError("encode must return (memory, states)")
        memory, states = out
        self.single_state = not isinstance(states, (list, tuple))
        return memory, memory, [states] if self.single_state else list(states)

    def step(self, token: Any, states: list, memory: Any, keys: Any, mask: Any,
             calls: LayerCalls = KERAS_CALLS) -> tuple[Any, list, Any]:
        """``(logits [B, V], new states list, attention [B, S])``; ``keys`` is unused."""
        with lowered_layers(self.owners, calls):
            out = self._step(token, states[0] if self.single_state else list(states),
                             memory, mask)
        if not isinstance(out, (list, tuple)) or len(out) != 3:
            raise ExportError("step must return (logits, states, attention)")
        logits, new, att = out
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        return logits, new, _weights_2d(att)
