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

from .beam import State, StepFn
from .fast_greedy import pad_correction


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
        log_probs[b, :n] -= np.float32(pad_correction(float(log_probs[b, n]), width - n))
        log_probs[b, n:] = -np.inf
    return log_probs


def restrict(log_probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Exact log-softmax over each row's ``allowed`` columns (the others ``-inf``).

    Args:
        log_probs: f32[B, C] log-softmax over all C columns.
        allowed: bool[B, C] the columns each row may output.
    """
    lp = np.where(allowed, log_probs, -np.inf)
    top = lp.max(-1, keepdims=True)
    lp -= top + np.log(np.exp(lp - top).sum(-1, keepdims=True))
    return lp.astype(np.float32, copy=False)


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
        allowed: bool[B, C] the columns each row may output, when rows share columns that
            are not all theirs (a batch's union of extra candidates); None: the first
            ``valid`` of each row.
    """

    BOS_COLUMN, EOS_COLUMN = -1, 0

    def __init__(self, step: StepFn, columns: np.ndarray, valid: np.ndarray, bos: int,
                 allowed: np.ndarray | None = None) -> None:
        self.step, self.columns, self.valid = step, columns, np.asarray(valid)
        self.rows, self.bos, self.allowed = np.arange(len(columns)), bos, allowed

    def __call__(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State, np.ndarray]:
        ids = np.where(tokens < 0, self.bos,
                       self.columns[self.rows, np.maximum(tokens, 0)]).astype(np.int32)
        log_probs, state, att = self.step(ids, state)
        if self.allowed is not None:
            return restrict(log_probs, self.allowed), state, att
        return renormalize(log_probs, self.valid), state, att

    def to_ids(self, row: int, cols: list[int]) -> list[int]:
        """Vocabulary ids of the columns ``cols`` of row ``row``."""
        return [int(self.columns[row, c]) for c in cols]
