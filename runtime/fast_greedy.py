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

import math
from collections.abc import Sequence

import numpy as np

from .beam import Hypothesis, length_penalty
from .session import BoundSignature


def pad_correction(pad_log_prob: float, pad_cols: int) -> float:
    """``log(1 - m·p)``: the log of the probability mass left to the real candidates when
    ``m`` padding columns of a shortlist step each hold ``<pad>``'s probability ``p``.

    Plain ``math`` on Python floats, one function for every decode path (they must round
    alike): for the K rows of a beam step it costs ~1 µs, numpy's vector calls ~4 µs."""
    return math.log1p(-min(pad_cols * math.exp(pad_log_prob), 1.0 - 1e-7))


def pad_corrections(pad_log_probs: Sequence[float] | np.ndarray, pad_cols: int
                    ) -> np.ndarray:
    """f32[N] :func:`pad_correction` of every entry (a beam's rows, a sentence's steps)."""
    values = pad_log_probs.tolist() if isinstance(pad_log_probs, np.ndarray) else pad_log_probs
    return np.array([pad_correction(x, pad_cols) for x in values], np.float32)


def suppress_eos(log_probs: np.ndarray, eos: int) -> None:
    """Forbid ``<eos>`` in f32[B, V] log probabilities (in place): what ``min_len`` does to
    each of the first ``min_len`` steps, on every decode path."""
    log_probs[..., eos] = -np.inf


def bound_layout(step: BoundSignature, eos: int, columns: np.ndarray | None, valid: int
                 ) -> tuple[int, int, int, list[tuple[int, int]], int | None, int, int]:
    """What a bound decode loop reads off its step: ``(token_in, log_probs_out,
    attention_out, [(state_in, state_out)], real, pad_cols, eos_col)`` — ``real`` the real
    columns of a shortlist step (None: the full vocabulary), ``pad_cols`` its padding
    columns, ``eos_col`` the column of ``<eos>``.

    Raises:
        ValueError: The step is not bound as ``[token, *states]`` in and
            ``[log_probs, attention, *states]`` out.
    """
    states_in = step.inputs[1:]
    states_out = step.outputs[2:2 + len(states_in)]  # outputs after the states: extras
    if len(states_in) != len(states_out):
        raise ValueError("decode_step must be bound with [token, *states] in and "
                         "[log_probs, attention, *states, ...] out")
    if columns is None:
        return (step.inputs[0], step.outputs[0], step.outputs[1],
                list(zip(states_in, states_out)), None, 0, eos)
    return (step.inputs[0], step.outputs[0], step.outputs[1],
            list(zip(states_in, states_out)), valid, len(columns) - valid, 0)


def greedy_bound(step: BoundSignature, width: int, max_len: int, bos: int, eos: int,
                 alpha: float = 0.0, min_len: int = 0, columns: np.ndarray | None = None,
                 valid: int = 0) -> Hypothesis:
    """Greedy-decode one sentence (batch 1) on a bound ``decode_step`` (or
    ``decode_step_shortlist``, with ``columns``).

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
        columns: int32[C] the candidate ids a shortlist step scores (``<eos>`` in column 0,
            ``<pad>`` padding after the first ``valid``): the argmax runs over the real
            columns, scores are renormalised over them (:mod:`.shortlist_decode`).
        valid: Real candidates among ``columns``.

    Returns:
        The hypothesis: ids without ``<eos>``, summed log probability, attention
        f32[len(ids), S].
    """
    w, sub = step.wrapper, step.subgraph
    # log_probs and the state are read through views of the output buffers (no copy of the
    # V floats per step). A view is taken after every Invoke and dropped before the next:
    # an output whose shape the graph computes at run time (the dynamic batch dim goes
    # through SHAPE/RESHAPE) is re-allocated by Invoke, so an older view can dangle. The
    # attention row is kept, hence copied (GetTensor).
    view = w.tensor
    token_in, logp_out, att_out, pairs, width_v, pad_cols, eos_col = bound_layout(
        step, eos, columns, valid)
    token = np.array([bos], np.int32)
    ids: list[int] = []
    rows: list[np.ndarray] = []
    score, finished = 0.0, False
    pads: list[float] = []  # <pad>'s log prob per step of a shortlist step with padding
    w.SetTensor(token_in, token, sub)
    for t in range(max_len):
        w.Invoke(sub)
        out = view(w, logp_out, sub)  # f32[1, V] (shortlist: f32[1, C]), a view
        log_probs = out[0, :width_v]
        k = int(log_probs.argmax())
        if k == eos_col and t < min_len:  # suppress_eos on a copy: never write the buffer
            log_probs = log_probs.copy()
            log_probs[eos_col] = -np.inf
            k = int(log_probs.argmax())
        score += log_probs.item(k)
        if pad_cols:
            pads.append(out.item(valid))  # renormalised at the end, in one call
        tok = k if columns is None else int(columns[k])
        if tok == eos:
            finished = True
            break
        ids.append(tok)
        rows.append(w.GetTensor(att_out, sub))
        token[0] = tok
        w.SetTensor(token_in, token, sub)
        for i, o in pairs:
            w.SetTensor(i, view(w, o, sub), sub)
    if pads:
        score -= float(pad_corrections(pads, pad_cols).sum(dtype=np.float64))
    steps = len(ids) + finished
    attention = (np.concatenate(rows).astype(np.float32, copy=False) if rows
                 else np.zeros((0, width), np.float32))
    return Hypothesis(ids, score, score / length_penalty(steps, alpha), attention, finished)
