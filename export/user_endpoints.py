"""Signatures and Keras references shared by every user-model export (derived or callable).

A *pair* is any object with ``state_names``, ``encode(tokens, mask, calls)`` and
``step(token, states, memory, keys, mask, calls)`` — :class:`.user_seq2seq.DerivedSeq2Seq`,
:class:`.user_callables.CallableSeq2Seq` or edge-attn's own ``Seq2Seq``. Its signatures carry
the runtime contract's fixed tensor names (:mod:`edge_attn.runtime.constants`).

Shapes: B batch, S source length, D memory width, K key width, U state width, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_attn.models.layer_calls import KERAS_CALLS
from edge_attn.runtime import constants as C

from .lowering import TFLiteCalls

Endpoints = dict[str, tuple[Callable[..., dict[str, Any]], list]]


def widths(pair: Any, source_len: int) -> tuple[int, int, list[int]]:
    """``(D, K, [U per state])`` from one eager ``encode`` of a zero batch."""
    tokens = np.zeros((1, source_len), "int32")
    memory, keys, states = pair.encode(tokens, np.ones((1, source_len), "float32"))
    return (int(memory.shape[-1]), int(keys.shape[-1]),
            [int(s.shape[-1]) for s in states])


def seq2seq_endpoints(pair: Any, source_len: int, calls: TFLiteCalls) -> Endpoints:
    """``encode`` and ``decode_step`` of a pair, lowered with ``calls``.

    Returns:
        ``{name: (function, input_signature)}`` for ``keras.export.ExportArchive``.
    """
    import tensorflow as tf

    names, s = list(pair.state_names), source_len
    d, k, units = widths(pair, s)

    def encode(tokens, mask):
        memory, keys, states = pair.encode(tokens, mask, calls)
        return {C.ENC_MEMORY: memory, C.ENC_KEYS: keys, **dict(zip(names, states))}

    def decode_step(token, *rest):
        states, (memory, keys, mask) = list(rest[: len(names)]), rest[len(names):]
        logits, new_states, attention = pair.step(token, states, memory, keys, mask, calls)
        return {C.DEC_LOG_PROBS: tf.nn.log_softmax(logits, -1), C.DEC_ATTENTION: attention,
                **dict(zip(names, new_states))}

    state_specs = [tf.TensorSpec([None, u], tf.float32, name=n) for n, u in zip(names, units)]
    return {
        C.ENCODE: (encode, [tf.TensorSpec([None, s], tf.int32, name=C.ENC_TOKENS),
                            tf.TensorSpec([None, s], tf.float32, name=C.ENC_MASK)]),
        C.DECODE_STEP: (decode_step, [
            tf.TensorSpec([None], tf.int32, name=C.DEC_TOKEN), *state_specs,
            tf.TensorSpec([None, s, d], tf.float32, name=C.DEC_MEMORY),
            tf.TensorSpec([None, s, k], tf.float32, name=C.DEC_KEYS),
            tf.TensorSpec([None, s], tf.float32, name=C.DEC_MASK)]),
    }


def trace_endpoints(owners: Sequence[Any], endpoints: Endpoints,
                    saved_model_dir: str | Path) -> list[str]:
    """Write a SavedModel with one endpoint per signature, tracking the weight owners.

    Args:
        owners: Keras layers/models whose variables the endpoints read (frozen by convert).
        endpoints: ``{name: (function, input_signature)}``.
        saved_model_dir: Empty directory to write.

    Returns:
        The signature names.
    """
    import keras

    archive = keras.export.ExportArchive()
    for owner in owners:
        archive.track(owner)
    for name, (fn, spec) in endpoints.items():
        archive.add_endpoint(name, fn, input_signature=spec)
    archive.write_out(str(saved_model_dir), verbose=False)
    return list(endpoints)


def pair_greedy(pair: Any, source: np.ndarray, bos: int, eos: int, max_len: int,
                pad: int = 0) -> list[list[int]]:
    """Greedy ids (up to, excluding ``<eos>``) of the pair's own Keras step loop.

    Args:
        pair: A derived or callable pair (float Keras calls).
        source: int32 [N, S] padded sources.
        bos, eos, pad: The target's special ids (pad: the source's).
        max_len: Steps to run.
    """
    mask = (source != pad).astype("float32")
    memory, keys, states = pair.encode(source, mask, KERAS_CALLS)
    token = np.full((len(source),), bos, "int32")
    steps = []
    for _ in range(max_len):
        logits, states, _ = pair.step(token, states, memory, keys, mask, KERAS_CALLS)
        token = np.asarray(logits).argmax(-1).astype("int32")
        steps.append(token)
    return [_cut(row, eos) for row in np.stack(steps, 1).tolist()]


def teacher_forced_greedy(model: Any, source: np.ndarray, bos: int, eos: int,
                          max_len: int, source_first: bool = True) -> list[list[int]]:
    """Greedy ids of the user's teacher-forced model fed its own outputs.

    Step t runs the whole model on ``[<bos>, y_1 … y_t, 0 …]`` (causal, so later positions
    do not matter) and takes the argmax at position t: the reference a derived pair must
    reproduce.

    Args:
        model: ``keras.Model([source, target], probs [B, T, V])``.
        source: int32 [N, S].
        bos, eos: Target special ids.
        max_len: Output steps (at most the target input's static length).
        source_first: The model's inputs are ``(source, target)`` (else reversed).
    """
    t_len = model.inputs[1 if source_first else 0].shape[1] or max_len
    target = np.zeros((len(source), t_len), "int32")
    target[:, 0] = bos
    out = []
    for t in range(min(max_len, t_len)):
        feed = [source, target] if source_first else [target, source]
        token = np.asarray(model(feed, training=False))[:, t].argmax(-1)
        out.append(token)
        if t + 1 < t_len:
            target[:, t + 1] = token
    return [_cut(row, eos) for row in np.stack(out, 1).tolist()]


def _cut(ids: list[int], eos: int) -> list[int]:
    return ids[:ids.index(eos)] if eos in ids else ids


def roll_rows(x: Any, shift: Any) -> Any:
    """``out[b, j] = x[b, (j − shift[b]) mod S]``: row b rotated right by ``shift[b]``.

    Args:
        x: [B, S, ...] tensor.
        shift: int32 [B].
    """
    import tensorflow as tf

    s = int(x.shape[1])
    idx = tf.math.floormod(tf.range(s)[None, :] - shift[:, None], s)
    return tf.gather(x, idx, batch_dims=1)


def pad_shift(mask: Any) -> Any:
    """int32 [B]: padding steps per row of a right-padded float mask [B, S]."""
    import tensorflow as tf

    real = tf.cast(tf.round(tf.reduce_sum(mask, axis=1)), tf.int32)
    return int(mask.shape[1]) - real
