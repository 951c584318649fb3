"""The ``decode_step_shortlist`` signature: a decode step that scores a sentence's candidates.

Same inputs as ``decode_step`` plus ``extra_candidates int32[E]``. The output layer scores
the head (``<eos>`` and the shortlist's always-scored ids, see
:meth:`~edge_attn.runtime.shortlist.Shortlist.head`) with their rows baked in as one
constant [F, H] matrix — a fully-connected layer the delegate runs like any other — and the
E extra candidates, one set for all B rows, with their rows gathered from the output layer
inside the step (one [E, H] gather, one small matmul); ``log_probs[B, F + E]`` is the
log-softmax over both. Everything before the output layer is the very same
:meth:`Seq2Seq.step_features` that ``decode_step`` runs. Its beam twin
``decode_step_shortlist_top`` adds ``top_log_probs f32[B, k]`` and ``top_columns
int32[B, k]`` (k = ``SHORTLIST_TOP``, at most F): each row's k best columns, best first, from
one in-graph top-k (TOPK_V2), so a beam reads K·k entries per step instead of K·(F + E).

Measured on the real eng-fra model's output layer alone (V 8000, H 256, 1 thread, int8,
batch 1 / 4): the full layer 44 / 115 µs; every candidate gathered per row (C ≈ 576, the
first shortlist step) 30 / 118 µs; head 512 + 32 extras gathered per row 5.3 / 15 µs, shared
by the rows 4.8 / 11 µs (benchmarks/real.md has the whole-step figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from edge_attn.runtime import constants as C
from edge_attn.runtime.shortlist import Shortlist


def shortlist_endpoint(model: Any, tf: Any, calls: Any, decode_specs: list[Any],
                       head: np.ndarray, top: bool = False) -> tuple[Callable, list[Any]]:
    """``(function, input_signature)`` of ``decode_step_shortlist`` for a built-in Seq2Seq
    (``top``: of its beam twin ``decode_step_shortlist_top``).

    Args:
        model: The Keras :class:`~edge_attn.models.seq2seq.Seq2Seq`.
        tf: The tensorflow module.
        calls: The export lowering (:mod:`.lowering`).
        decode_specs: ``decode_step``'s input signature (token, states..., memory, keys, mask).
        head: int32[F] the target ids whose output rows are constants (the first F columns).
    """
    names = model.state_names
    kernel = tf.transpose(tf.convert_to_tensor(model.project.kernel))  # [V, H]
    bias = tf.convert_to_tensor(model.project.bias)  # [V]
    head_ids = tf.constant(np.asarray(head, np.int32))
    head_rows, head_bias = tf.gather(kernel, head_ids), tf.gather(bias, head_ids)  # folded
    top_k = min(C.SHORTLIST_TOP, len(head))

    def decode_step_shortlist(token, *rest):
        states = list(rest[: len(names)])
        memory, keys, mask, extra = rest[len(names):]
        features, new_states, attention = model.step_features(token, states, memory, keys,
                                                              mask, calls)
        fixed = tf.matmul(features, head_rows, transpose_b=True) + head_bias  # [B, F]
        rows = tf.gather(kernel, extra)  # [E, H]
        gathered = tf.matmul(features, rows, transpose_b=True) + tf.gather(bias, extra)
        logits = tf.concat([fixed, gathered], -1)  # [B, F + E]
        log_probs = tf.nn.log_softmax(logits, -1)
        out = {C.DEC_LOG_PROBS: log_probs, C.DEC_ATTENTION: attention,
               **dict(zip(names, new_states))}
        if top:
            best = tf.math.top_k(log_probs, k=top_k)  # [B, k] each, best first
            out.update({C.DEC_TOP_LOG_PROBS: best.values, C.DEC_TOP_COLUMNS: best.indices})
        return out

    spec = [*decode_specs, tf.TensorSpec([None], tf.int32, name=C.DEC_EXTRA_CANDIDATES)]
    return decode_step_shortlist, spec


def batch_extras(shortlist: Shortlist, sources: np.ndarray, eos: int,
                 never: tuple[int, ...] = ()) -> np.ndarray:
    """int32[E] the extra candidates (after the head) of padded sources int[B, S]: their
    union, padded as the runtime pads them."""
    head = shortlist.head(eos, never)
    sets = [shortlist.candidates(row[row != 0], eos, never, head) for row in sources]
    return shortlist.union(sets, head)[0][len(head):]


def with_shortlist(feeds: Iterator[tuple[str, dict[str, Any]]], shortlist: Shortlist,
                   eos: int, never: tuple[int, ...] = ()
                   ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Calibration feeds plus, after every ``decode_step`` feed, the same step for
    ``decode_step_shortlist`` and ``decode_step_shortlist_top`` with the batch's real
    candidate sets."""
    extras = None
    for name, feed in feeds:
        yield name, feed
        if name == C.ENCODE:
            extras = batch_extras(shortlist, np.asarray(feed[C.ENC_TOKENS]), eos, never)
        elif name == C.DECODE_STEP and extras is not None:
            step = dict(feed, **{C.DEC_EXTRA_CANDIDATES: extras})
            yield C.DECODE_STEP_SHORTLIST, step
            yield C.DECODE_STEP_SHORTLIST_TOP, step  # the same feeds: the same quantization
