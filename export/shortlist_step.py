"""The ``decode_step_shortlist`` signature: a decode step that scores C candidate tokens.

Same inputs as ``decode_step`` plus ``candidates int32[B, C]`` (target ids, see
:mod:`edge_attn.runtime.shortlist`); the output layer's rows of those ids are gathered inside
the step and multiplied with h̃ (C·H multiply-adds instead of V·H), and ``log_probs[B, C]``
is the log-softmax over the candidates only. Everything before the output layer is the very
same :meth:`Seq2Seq.step_features` that ``decode_step`` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from edge_attn.runtime import constants as C
from edge_attn.runtime.shortlist import Shortlist


def shortlist_endpoint(model: Any, tf: Any, calls: Any,
                       decode_specs: list[Any]) -> tuple[Callable, list[Any]]:
    """``(function, input_signature)`` of ``decode_step_shortlist`` for a built-in Seq2Seq.

    Args:
        model: The Keras :class:`~edge_attn.models.seq2seq.Seq2Seq`.
        tf: The tensorflow module.
        calls: The export lowering (:mod:`.lowering`).
        decode_specs: ``decode_step``'s input signature (token, states..., memory, keys, mask).
    """
    names = model.state_names
    kernel = tf.transpose(tf.convert_to_tensor(model.project.kernel))  # [V, H]
    bias = tf.convert_to_tensor(model.project.bias)  # [V]

    def decode_step_shortlist(token, *rest):
        states = list(rest[: len(names)])
        memory, keys, mask, candidates = rest[len(names):]
        features, new_states, attention = model.step_features(token, states, memory, keys,
                                                              mask, calls)
        rows = tf.gather(kernel, candidates)  # [B, C, H]
        logits = tf.squeeze(tf.matmul(rows, features[:, :, None]), -1)
        logits = logits + tf.gather(bias, candidates)
        return {C.DEC_LOG_PROBS: tf.nn.log_softmax(logits, -1), C.DEC_ATTENTION: attention,
                **dict(zip(names, new_states))}

    spec = [*decode_specs, tf.TensorSpec([None, None], tf.int32, name=C.DEC_CANDIDATES)]
    return decode_step_shortlist, spec


def batch_candidates(shortlist: Shortlist, sources: np.ndarray, eos: int,
                     never: tuple[int, ...] = ()) -> np.ndarray:
    """int32[B, C] candidate rows for padded sources int[B, S] (one bucket for the batch)."""
    sets = [shortlist.candidates(row[row != 0], eos, never)[0] for row in sources]
    width = max(len(s) for s in sets)
    out = np.empty((len(sets), width), np.int32)
    for i, s in enumerate(sets):
        out[i, : len(s)] = s
        out[i, len(s):] = 0
    return out


def with_shortlist(feeds: Iterator[tuple[str, dict[str, Any]]], shortlist: Shortlist,
                   eos: int, never: tuple[int, ...] = ()
                   ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Calibration feeds plus, after every ``decode_step`` feed, the same step for
    ``decode_step_shortlist`` with the batch's real candidate sets."""
    candidates = None
    for name, feed in feeds:
        yield name, feed
        if name == C.ENCODE:
            candidates = batch_candidates(shortlist, np.asarray(feed[C.ENC_TOKENS]), eos, never)
        elif name == C.DECODE_STEP and candidates is not None:
            yield C.DECODE_STEP_SHORTLIST, dict(feed, **{C.DEC_CANDIDATES: candidates})
