"""Greedy decoding of one sentence straight on a bound ``decode_step`` signature.

:func:`~edge_attn.runtime.beam.greedy_search` serves any batch and any step function; this
loop serves the common device case — one sentence, soft attention — with what the
interpreter must do anyway and little else: per step it sets the token and the decoder
state, invokes, reads log probabilities, attention and the new state, and takes the argmax
as a Python int. Memory, keys and mask stay in the interpreter's input buffers for the whole
sentence (:class:`~edge_attn.runtime.session.Handoff`). Its result is the same
:class:`~edge_attn.runtime.beam.Hypothesis` ``greedy_search`` returns for that sentence.
"""

from __future__ import annotations

import numpy as np

from .beam import Hypothesis, length_penalty
from .session import BoundSignature


def suppress_eos(log_probs: np.ndarray, eos: int) -> None:
    """Forbid ``<eos>`` in f32[B, V] log probabilities (in place): what ``min_len`` does to
    each of the first ``min_len`` steps, on every decode path."""
    log_probs[..., eos] = -np.inf


def greedy_bound(step: BoundSignature, width: int, max_len: int, bos: int, eos: int,
                 alpha: float = 0.0, min_len: int = 0) -> Hypothesis:
    """Greedy-decode one sentence (batch 1) on a bound ``decode_step``.

    Args:
        step: ``decode_step`` bound with changing inputs ``[token, *states]`` and outputs
            ``[log_probs, attention, *states]`` (same state order), batch 1, every other
            input already set.
        width: Source length S (attention width), for the empty result.
        max_len: Maximum decoding steps.
        bos: Start token id.
        eos: End token id.
        alpha: GNMT length penalty for ``normalized_score``.
        min_len: Steps before which ``<eos>`` cannot be chosen (its log prob is set to -inf).

    Returns:
        The hypothesis: ids without ``<eos>``, summed log probability, attention
        f32[len(ids), S].
    """
    w, sub = step.wrapper, step.subgraph
    token_in, states_in = step.inputs[0], step.inputs[1:]
    logp_out, att_out, states_out = step.outputs[0], step.outputs[1], step.outputs[2:]
    if len(states_in) != len(states_out):
        raise ValueError("decode_step must be bound with [token, *states] in and "
                         "[log_probs, attention, *states] out")
    # Outputs are read with GetTensor (a copy). Views of output buffers would save a copy
    # per tensor, but an output whose shape the graph computes at run time (the dynamic
    # batch dim goes through SHAPE/RESHAPE) is re-allocated by Invoke: a view can dangle.
    pairs = list(zip(states_in, states_out))
    token = np.array([bos], np.int32)
    ids: list[int] = []
    rows: list[np.ndarray] = []
    score, finished = 0.0, False
    w.SetTensor(token_in, token, sub)
    for t in range(max_len):
        w.Invoke(sub)
        log_probs = w.GetTensor(logp_out, sub)  # f32[1, V]
        if t < min_len:
            suppress_eos(log_probs, eos)
        k = int(log_probs.argmax())  # flat index == column: batch 1
        score += log_probs.item(k)
        if k == eos:
            finished = True
            break
        ids.append(k)
        rows.append(w.GetTensor(att_out, sub))
        token[0] = k
        w.SetTensor(token_in, token, sub)
        for i, o in pairs:
            w.SetTensor(i, w.GetTensor(o, sub), sub)
    steps = len(ids) + finished
    attention = (np.concatenate(rows).astype(np.float32, copy=False) if rows
                 else np.zeros((0, width), np.float32))
    return Hypothesis(ids, score, score / length_penalty(steps, alpha), attention, finished)
