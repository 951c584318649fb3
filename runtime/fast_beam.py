"""Beam search of one sentence straight on a bound ``decode_step`` (batch = beam width K).

:func:`~edge_attn.runtime.beam.beam_search` serves any batch of sentences and any step
function; this loop serves the common device case — one sentence, soft attention — the way
:mod:`.fast_greedy` serves greedy: memory, keys and mask are set once (K rows each), and per
step only the K tokens and the K decoder states (gathered by parent row) are set. History is
kept as per-step backpointers and read back only for the hypotheses that end, instead of
re-gathering every beam's whole history on every step. Selection and stopping are those of
``beam_search`` (same candidate order, same ties, same stopping rule), so both return the
same hypothesis.
"""

from __future__ import annotations

import numpy as np

from .beam import MARGINS, Hypothesis, length_penalty, sentence_done, top_candidates
from .fast_greedy import bound_layout
from .session import BoundSignature


def top_expansions(scores: np.ndarray, log_probs: np.ndarray, m: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` best expansions of K beams, best first, without forming all K·V sums.

    Equal to ``top_candidates((scores[:, None] + log_probs).reshape(1, -1), m)`` (stable
    order, ties by lower flat index): the sums are formed only for the entries within a
    margin of the best (found on the float32 log probabilities against per-row thresholds),
    falling back to the full candidate row for anything unusual (NaN, too few finite).

    Args:
        scores: f64[K] beam scores (``-inf`` = empty row).
        log_probs: f32[K, V] the step's log probabilities.
        m: Expansions wanted.

    Returns:
        ``(flat int64[m'], value f64[m'])``: flat index ``b * V + j`` and score of each.
    """
    best = float(np.max(scores + log_probs.max(axis=1)))
    if np.isfinite(best) and m < log_probs.size:
        slack = 1e-3 + 1e-6 * abs(best)  # float32 pre-filter, exact float64 test below
        for margin in MARGINS:
            floor = (best - margin - slack - scores).astype(np.float32)[:, None]
            flat = np.flatnonzero(log_probs >= floor)
            rows = flat // log_probs.shape[1]
            values = scores[rows] + log_probs.reshape(-1)[flat]
            keep = values >= best - margin
            if np.count_nonzero(keep) >= m:
                flat, values = flat[keep], values[keep]
                order = np.lexsort((flat, -values))[:m]
                return flat[order], values[order]
    cand = (scores[:, None] + log_probs).reshape(1, -1)
    flat = top_candidates(cand, m)[0]
    return flat, cand[0, flat]


def pad_corrections(pad_log_probs: np.ndarray, pad_cols: int) -> np.ndarray:
    """f32[K] ``log(1 - m·p)`` per row (see :func:`.fast_greedy.pad_correction`)."""
    mass = np.minimum(pad_cols * np.exp(pad_log_probs.astype(np.float64)), 1.0 - 1e-7)
    return np.log1p(-mass).astype(np.float32)


class _History:
    """Per-step backpointers: ``parent[t][j]`` is the row that row ``j`` continued at step
    ``t``, ``column[t][j]`` the column it chose, ``attention[t]`` f32[K, S] the step's rows."""

    def __init__(self) -> None:
        self.parent: list[np.ndarray] = []
        self.column: list[np.ndarray] = []
        self.attention: list[np.ndarray] = []

    def path(self, row: int, steps: int) -> tuple[list[int], list[np.ndarray]]:
        """Columns and attention rows of the first ``steps`` steps that end in ``row``."""
        cols, rows = [], []
        for t in range(steps - 1, -1, -1):
            cols.append(int(self.column[t][row]))
            row = int(self.parent[t][row])
            rows.append(self.attention[t][row])
        return cols[::-1], rows[::-1]


def beam_bound(step: BoundSignature, k: int, width: int, max_len: int, bos: int, eos: int,
               alpha: float = 0.0, min_len: int = 0, columns: np.ndarray | None = None,
               valid: int = 0) -> Hypothesis:
    """Beam-search one sentence on a bound ``decode_step`` (or ``decode_step_shortlist``).

    Args:
        step: Bound with changing inputs ``[token, *states]`` and outputs
            ``[log_probs, attention, *states]``, batch K, every other input already set with
            K identical rows (``Handoff(..., repeat=K)``), tokens set to ``<bos>``.
        k: Beam width K.
        width: Source length S (attention width), for the empty result.
        max_len: Maximum decoding steps.
        bos: Start token id.
        eos: End token id.
        alpha: GNMT length penalty (ranking of finished hypotheses).
        min_len: Steps before which ``<eos>`` cannot be chosen.
        columns: int32[C] candidate ids of a shortlist step (``<eos>`` in column 0, ``<pad>``
            after the first ``valid``); scores are renormalised over the real ones.
        valid: Real candidates among ``columns``.

    Returns:
        The best hypothesis (highest normalised score): ids without ``<eos>``, summed log
        probability, attention f32[len(ids), S].
    """
    w, sub = step.wrapper, step.subgraph
    token_in, logp_out, att_out, pairs, real, pad_cols, eos_col = bound_layout(
        step, eos, columns, valid)
    scores = np.full(k, -np.inf)
    scores[0] = 0.0  # the K rows start identical: only the first one is expanded
    identity = np.arange(k)
    history = _History()
    final: list[Hypothesis] = []

    def hypothesis(row: int, steps: int, score: float, finished: bool) -> Hypothesis:
        cols, rows = history.path(row, len(history.parent))
        ids = cols if columns is None else [int(columns[c]) for c in cols]
        att = np.stack(rows).astype(np.float32) if rows else np.zeros((0, width), np.float32)
        return Hypothesis(ids, float(score), float(score / length_penalty(steps, alpha)), att,
                          finished)

    w.SetTensor(token_in, np.full(k, bos, np.int32), sub)
    for t in range(max_len):
        w.Invoke(sub)
        out = w.GetTensor(logp_out, sub)  # f32[K, V] (shortlist: f32[K, C])
        log_probs = out if real is None else out[:, :real]
        if pad_cols:
            log_probs = log_probs - pad_corrections(out[:, real], pad_cols)[:, None]
        if t < min_len:
            log_probs[:, eos_col] = -np.inf
        vocab = log_probs.shape[1]
        parent, new_scores = identity.copy(), np.full(k, -np.inf)
        chosen = np.full(k, eos_col, np.int32)
        alive = 0
        for c, value in zip(*top_expansions(scores, log_probs, 2 * k)):
            if not np.isfinite(value):
                break
            b, tok = divmod(int(c), vocab)
            if tok == eos_col:
                final.append(hypothesis(b, t + 1, value, True))
                continue
            parent[alive], new_scores[alive], chosen[alive] = b, value, tok
            alive += 1
            if alive == k:
                break
        history.parent.append(parent)
        history.column.append(chosen)
        history.attention.append(w.GetTensor(att_out, sub))
        scores = new_scores
        if t == max_len - 1:
            final += [hypothesis(b, t + 1, scores[b], False) for b in range(k)
                      if np.isfinite(scores[b])]
            break
        if sentence_done(final, scores, t + 1, max_len, k, alpha):
            break
        w.SetTensor(token_in, chosen if columns is None else columns[chosen], sub)
        for i, o in pairs:
            w.SetTensor(i, w.GetTensor(o, sub)[parent], sub)
    if not final:
        return Hypothesis([], float("-inf"), float("-inf"), np.zeros((0, width)), False)
    return max(final, key=lambda h: h.normalized_score)
