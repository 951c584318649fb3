"""Greedy and beam search over a step function, in numpy.

A *step function* maps ``(tokens int32[B], state) -> (log_probs f32[B,V], state, attention
f32[B,S])`` where ``state`` is a dict of arrays whose first axis is the batch (decoder state
tensors and any per-row bookkeeping). Everything the step needs that never changes during
decoding (memory, keys, mask) lives inside the step function, so beams never copy it: the K
beams of sentence ``n`` always occupy rows ``n*K .. n*K+K-1`` and backpointers only reorder
rows inside that block.

Length normalisation follows Wu et al. (2016), "Google's Neural Machine Translation System":
``normalized = score / lp(L)`` with ``lp(L) = ((5 + L) / 6) ** alpha``, ``L`` the number of
decoding steps (``<eos>`` included) and ``alpha`` = ``length_penalty`` (0 = raw sum).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

State = dict[str, np.ndarray]
StepFn = Callable[[np.ndarray, State], tuple[np.ndarray, State, np.ndarray]]


@dataclass
class Hypothesis:
    """One decoded output.

    Attributes:
        ids: Output token ids, ``<eos>`` excluded.
        score: Sum of the log probabilities of every step (``<eos>`` included).
        normalized_score: ``score / lp(steps)`` (see the module docstring).
        attention: f32[len(ids), S] — the attention row of every output token.
        finished: Whether it ended with ``<eos>`` (False: stopped at ``max_len``).
    """

    ids: list[int]
    score: float
    normalized_score: float
    attention: np.ndarray
    finished: bool


def length_penalty(steps: int, alpha: float) -> float:
    """GNMT length penalty ``((5 + steps) / 6) ** alpha``."""
    return ((5.0 + steps) / 6.0) ** alpha if alpha else 1.0


def iter_greedy(step: StepFn, state: State, batch: int, max_len: int, bos: int,
                eos: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Greedy decoding, one yield per step until every row emitted ``<eos>`` or ``max_len``.

    Yields:
        ``(tokens int[B], log_prob f32[B], attention f32[B,S], active bool[B])`` — the argmax
        token of every row, its log probability, the step's attention and which rows were
        still decoding at this step (finished rows keep being fed ``<eos>``).
    """
    tokens = np.full(batch, bos, np.int32)
    active = np.ones(batch, bool)
    for _ in range(max_len):
        log_probs, state, attention = step(tokens, state)
        nxt = np.argmax(log_probs, axis=-1).astype(np.int32)
        yield nxt, log_probs[np.arange(batch), nxt], attention, active.copy()
        active &= nxt != eos
        if not active.any():
            return
        tokens = np.where(active, nxt, eos).astype(np.int32)


def greedy_search(step: StepFn, state: State, batch: int, max_len: int, bos: int, eos: int,
                  alpha: float = 0.0) -> list[Hypothesis]:
    """Greedy decoding of ``batch`` rows (see :func:`iter_greedy`)."""
    ids: list[list[int]] = [[] for _ in range(batch)]
    rows: list[list[np.ndarray]] = [[] for _ in range(batch)]
    scores = np.zeros(batch, np.float64)
    steps = np.zeros(batch, np.int64)
    finished = np.zeros(batch, bool)
    width = 0
    for nxt, logp, att, active in iter_greedy(step, state, batch, max_len, bos, eos):
        width = int(att.shape[-1])
        for b in np.flatnonzero(active):
            scores[b] += float(logp[b])
            steps[b] += 1
            if nxt[b] == eos:
                finished[b] = True
            else:
                ids[b].append(int(nxt[b]))
                rows[b].append(att[b])
    return [Hypothesis(ids[b], float(scores[b]),
                       float(scores[b] / length_penalty(int(steps[b]), alpha)),
                       _stack(rows[b], width), bool(finished[b])) for b in range(batch)]


def _stack(rows: list[np.ndarray], width: int) -> np.ndarray:
    return np.array(rows, np.float32) if rows else np.zeros((0, width), np.float32)


def beam_search(step: StepFn, state: State, n: int, width: int, max_len: int, bos: int,
                eos: int, alpha: float = 0.0) -> list[Hypothesis]:
    """Beam search for ``n`` sentences with ``width`` beams each, all run as one batch.

    Args:
        step: The step function; its static inputs must already have ``n * width`` rows.
        state: Initial state with ``n * width`` rows (sentence-major, repeated per beam).
        n: Number of sentences.
        width: Beam width K.
        max_len: Maximum decoding steps.
        bos: Start token id.
        eos: End token id.
        alpha: Length penalty (0 = rank by raw log probability).

    Returns:
        The best hypothesis of each sentence (highest normalized score). Finished
        hypotheses are kept aside as beams end; a sentence stops once no live beam can
        beat its best finished one, or once it has ``width`` finished hypotheses and none
        of its live beams currently ranks above the best of them.
    """
    k, rows = width, n * width
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0
    tokens = np.full(rows, bos, np.int32)
    hist_ids = np.zeros((rows, 0), np.int32)
    hist_att: np.ndarray | None = None
    done = np.zeros(n, bool)
    final: list[list[Hypothesis]] = [[] for _ in range(n)]
    for t in range(max_len):
        log_probs, state, att = step(tokens, state)
        if hist_att is None:
            hist_att = np.zeros((rows, 0, att.shape[-1]), np.float32)
        vocab = log_probs.shape[-1]
        cand = (scores[:, :, None] + log_probs.reshape(n, k, vocab)).reshape(n, k * vocab)
        parent = np.tile(np.arange(k), n).reshape(n, k) + np.arange(n)[:, None] * k
        new_scores = np.full((n, k), -np.inf)
        next_tok = np.full((n, k), eos, np.int32)
        last = t == max_len - 1
        live = np.flatnonzero(~done)
        for s, top in zip(live, top_candidates(cand[live], 2 * k)):
            alive = 0
            for c in top:
                value = cand[s, c]
                if not np.isfinite(value):
                    break
                b, tok = divmod(int(c), vocab)
                row = s * k + b
                if tok == eos:
                    final[s].append(_hyp(hist_ids[row], value, t + 1, hist_att[row], True, alpha))
                    continue
                parent[s, alive], new_scores[s, alive], next_tok[s, alive] = row, value, tok
                alive += 1
                if alive == k:
                    break
        order = parent.reshape(-1)
        state = {name: v[order] for name, v in state.items()}
        hist_ids = np.concatenate([hist_ids[order], next_tok.reshape(-1, 1)], axis=1)
        hist_att = np.concatenate([hist_att[order], att[order][:, None]], axis=1)
        scores, tokens = new_scores, next_tok.reshape(-1)
        for s in np.flatnonzero(~done):
            if last:
                for b in range(k):
                    if np.isfinite(scores[s, b]):
                        final[s].append(_hyp(hist_ids[s * k + b], scores[s, b], t + 1,
                                             hist_att[s * k + b], False, alpha))
            done[s] = last or sentence_done(final[s], scores[s], t + 1, max_len, k, alpha)
            if done[s]:
                scores[s] = -np.inf
        if done.all():
            break
    width_s = 0 if hist_att is None else hist_att.shape[-1]
    return [max(f, key=lambda h: h.normalized_score) if f
            else Hypothesis([], float("-inf"), float("-inf"), np.zeros((0, width_s)), False)
            for f in final]


def top_candidates(cand: np.ndarray, m: int) -> np.ndarray:
    """The ``m`` best columns of every row, best first, without sorting the whole row.

    Equal to ``np.argsort(-cand, kind="stable")[:, :m]`` (ties: lower index first), computed
    from the columns within a margin of each row's best (one max, one comparison) or, when
    those are too few or too many, one partial selection (``np.partition``), plus a sort of
    the few picked: with a beam of K over a vocabulary of V a row holds K·V candidates and
    ``m`` = 2K.

    Args:
        cand: f[N, C] candidate scores (``-inf`` allowed).
        m: How many to keep per row (clipped to C).

    Returns:
        int64[N, min(m, C)] column indices.
    """
    n, c = cand.shape
    m = min(m, c)
    if m == c:
        return np.argsort(-cand, axis=1, kind="stable")
    out = np.empty((n, m), np.int64)
    for i in range(n):
        pick = _above_margin(cand[i], m)
        if pick is None:
            return _by_partition(cand, m)
        out[i] = pick[np.lexsort((pick, -cand[i, pick]))[:m]]
    return out


# Log probabilities put the few plausible next tokens far above the bulk: the columns within
# MARGIN of a row's best (one max, one comparison) hold its m best in practice, and a partial
# selection among those few is cheap (np.partition over all K·V scores cost 3–6× a decode
# step on an 8k vocabulary).
_MARGINS = (2.0, 4.0, 8.0, 32.0)  # tried in turn: the first that holds m columns is used


def _above_margin(row: np.ndarray, m: int) -> np.ndarray | None:
    """Columns of ``row`` that hold its ``m`` best (ties at the m-th value included), found
    among those within the smallest of :data:`_MARGINS` of its maximum that holds ``m``;
    None if even the widest holds fewer."""
    top = row.max()
    if not np.isfinite(top):
        return None
    for margin in _MARGINS:
        pick = np.flatnonzero(row >= top - margin)
        if len(pick) >= m:
            break
    else:
        return None
    if len(pick) > 4 * m:
        vals = row[pick]
        kth = np.partition(vals, len(vals) - m)[len(vals) - m]  # the m-th best value
        pick = pick[vals >= kth]
    return pick


def _by_partition(cand: np.ndarray, m: int) -> np.ndarray:
    """:func:`top_candidates` by one ``np.partition`` per row (any scores, NaN last)."""
    n = cand.shape[0]
    neg = -cand
    kth = np.partition(neg, m - 1, axis=1)[:, m - 1 : m]  # the m-th best score, negated
    out = np.empty((n, m), np.int64)
    for i in range(n):
        better = np.flatnonzero(neg[i] < kth[i])
        tied = np.flatnonzero(neg[i] == kth[i])[: m - len(better)]
        pick = np.concatenate([better, tied])
        if len(pick) < m:  # NaN scores (only from a broken model): rank them last
            return _by_partition(np.where(np.isnan(cand), -np.inf, cand), m)
        out[i] = pick[np.lexsort((pick, neg[i, pick]))]
    return out


def _hyp(ids: np.ndarray, score: float, steps: int, att: np.ndarray, finished: bool,
         alpha: float) -> Hypothesis:
    return Hypothesis([int(i) for i in ids], float(score),
                      float(score / length_penalty(steps, alpha)),
                      np.asarray(att, np.float32), finished)


def sentence_done(final: Sequence[Any], alive: np.ndarray, steps: int, max_len: int, k: int,
                  alpha: float) -> bool:
    """Whether a sentence's search can stop after ``steps`` steps.

    Args:
        final: Its finished hypotheses so far (anything with a ``normalized_score``).
        alive: f[K] scores of its live beams (``-inf`` = empty row).
        steps: Steps done.
        max_len: Maximum steps.
        k: Beam width.
        alpha: Length penalty.
    """
    if not final:
        return False
    best = max(h.normalized_score for h in final)
    live = alive[np.isfinite(alive)]
    if live.size == 0:
        return True
    # Scores only decrease and lp only grows: this bounds every live continuation.
    bound = float(live.max()) / length_penalty(max_len, alpha)
    if best >= bound:
        return True
    current = float(live.max()) / length_penalty(steps, alpha)
    return len(final) >= k and best >= current
