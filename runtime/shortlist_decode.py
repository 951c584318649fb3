"""Decoding over a vocabulary shortlist (``decode_step_shortlist``, see :mod:`.shortlist`).

The step's ``log_probs[B, C]`` are a log-softmax over the C columns of ``candidates``: the
first ``n`` are the sentence's distinct candidate ids (column 0 is ``<eos>``), the other
``m = C - n`` all hold ``<pad>``, so they carry the same value ``p`` each. Renormalising
over the real candidates is then exact and O(1) per row:
``log p'_j = log p_j - log(1 - m·p)``; the padding columns are set to ``-inf`` so they are
never chosen. Decoding itself runs on column indices; the ids are
mapped back through the candidate rows; column ``-1`` stands for ``<bos>`` (the first input,
never a candidate).
"""

from __future__ import annotations

import numpy as np

from .beam import Hypothesis, State, StepFn, length_penalty
from .session import BoundSignature


def renormalize(log_probs: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Exact log-softmax over the first ``valid[b]`` columns of every row, in place.

    Args:
        log_probs: f32[B, C] log-softmax over all C columns (padding columns identical).
        valid: int[B] real candidate count per row.

    Returns:
        ``log_probs`` with padding columns at ``-inf`` and real ones renormalised.
    """
    rows, width = log_probs.shape
    for b in np.flatnonzero(valid < width):
        n = int(valid[b])
        pad_mass = min((width - n) * float(np.exp(log_probs[b, n])), 1.0 - 1e-7)
        log_probs[b, :n] -= np.float32(np.log1p(-pad_mass))
        log_probs[b, n:] = -np.inf
    return log_probs


class ShortlistStep:
    """A :data:`~.beam.StepFn` over column indices for a step function that scores shortlist
    columns: tokens in are columns of each row's candidate list, mapped to vocabulary ids
    before the model sees them.

    Args:
        step: The step function over ``decode_step_shortlist`` (takes vocabulary ids; its
            ``<eos>`` column is 0).
        columns: int32[B, C] candidate ids of every row (beams of a sentence share a row's
            candidates, so reordering beams inside a sentence keeps the map valid).
        valid: int[B] real candidates per row.
        bos: The ``<bos>`` id that column ``-1`` stands for.
    """

    BOS_COLUMN, EOS_COLUMN = -1, 0

    def __init__(self, step: StepFn, columns: np.ndarray, valid: np.ndarray, bos: int) -> None:
        self.step, self.columns, self.valid = step, columns, np.asarray(valid)
        self.rows, self.bos = np.arange(len(columns)), bos

    def __call__(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State, np.ndarray]:
        ids = np.where(tokens < 0, self.bos,
                       self.columns[self.rows, np.maximum(tokens, 0)]).astype(np.int32)
        log_probs, state, att = self.step(ids, state)
        return renormalize(log_probs, self.valid), state, att

    def to_ids(self, row: int, cols: list[int]) -> list[int]:
        """Vocabulary ids of the columns ``cols`` of row ``row``."""
        return [int(self.columns[row, c]) for c in cols]


def greedy_bound_shortlist(step: BoundSignature, width: int, max_len: int, bos: int, eos: int,
                           columns: np.ndarray, valid: int, alpha: float = 0.0,
                           min_len: int = 0) -> Hypothesis:
    """:func:`~.fast_greedy.greedy_bound` on a bound ``decode_step_shortlist``.

    Args:
        step: Bound with changing inputs ``[token, *states]`` and outputs
            ``[log_probs, attention, *states]``, batch 1, the candidates already set.
        width: Source length S.
        max_len: Maximum decoding steps.
        bos: Start token id.
        eos: End token id (column 0 of ``columns``).
        columns: int32[C] the candidate ids the step scores.
        valid: Real candidates n (the rest is ``<pad>`` padding).
        alpha: GNMT length penalty.
        min_len: Steps before which ``<eos>`` cannot be chosen.

    Returns:
        The hypothesis with vocabulary ids and exactly renormalised scores.
    """
    w, sub = step.wrapper, step.subgraph
    token_in, states_in = step.inputs[0], step.inputs[1:]
    logp_out, att_out, states_out = step.outputs[0], step.outputs[1], step.outputs[2:]
    pairs = list(zip(states_in, states_out))
    pad_cols = len(columns) - valid
    token = np.array([bos], np.int32)
    ids: list[int] = []
    rows: list[np.ndarray] = []
    score, finished = 0.0, False
    w.SetTensor(token_in, token, sub)
    for t in range(max_len):
        w.Invoke(sub)
        log_probs = w.GetTensor(logp_out, sub)[0]  # f32[C]
        real = log_probs[:valid]
        if t < min_len:
            real[0] = -np.inf  # <eos> is column 0
        k = int(real.argmax())
        score += real.item(k)
        if pad_cols:
            score -= float(np.log1p(-min(pad_cols * float(np.exp(log_probs[valid])),
                                         1.0 - 1e-7)))
        tok = int(columns[k])
        if tok == eos:
            finished = True
            break
        ids.append(tok)
        rows.append(w.GetTensor(att_out, sub))
        token[0] = tok
        w.SetTensor(token_in, token, sub)
        for i, o in pairs:
            w.SetTensor(i, w.GetTensor(o, sub), sub)
    steps = len(ids) + finished
    attention = (np.concatenate(rows).astype(np.float32, copy=False) if rows
                 else np.zeros((0, width), np.float32))
    return Hypothesis(ids, score, score / length_penalty(steps, alpha), attention, finished)
