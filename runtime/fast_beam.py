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

from heapq import heappush, heapreplace
from math import isfinite
from typing import NamedTuple

import numpy as np

from .beam import Hypothesis, length_penalty, sentence_done, top_candidates
from .fast_greedy import bound_layout, pad_corrections
from .session import BoundSignature

# Margins below the best expansion tried in turn, each first counted on the float32 log
# probabilities (one comparison, one count); finer than those of :func:`.beam.top_candidates`
# so the entries gathered stay few (a 32-wide margin takes most of a 4 × 8k step: ~0.35 ms).
PROBES = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)


def top_expansions(scores: np.ndarray, log_probs: np.ndarray, m: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` best expansions of K beams, best first, without forming all K·V sums.

    Equal to ``top_candidates((scores[:, None] + log_probs).reshape(1, -1), m)`` (stable
    order, ties by lower flat index): the sums are formed only for the entries within a
    margin of the best (counted on the float32 log probabilities against per-row thresholds,
    then tested exactly in float64), falling back to the full candidate row for anything
    unusual (NaN, too few finite).

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
        gap = (best - slack - scores).astype(np.float32)[:, None]  # row floors at margin 0
        for margin in PROBES:
            hit = log_probs >= gap - np.float32(margin)
            if np.count_nonzero(hit) < m:
                continue
            flat = np.flatnonzero(hit)
            values = scores[flat // log_probs.shape[1]] + log_probs.reshape(-1)[flat]
            keep = values >= best - margin
            if np.count_nonzero(keep) >= m:
                flat, values = flat[keep], values[keep]
                order = np.lexsort((flat, -values))[:m]
                return flat[order], values[order]
    cand = (scores[:, None] + log_probs).reshape(1, -1)
    flat = top_candidates(cand, m)[0]
    return flat, cand[0, flat]


class _Final(NamedTuple):
    """A hypothesis that ended: its scores, and where its path ends in the history."""

    normalized_score: float
    score: float
    row: int
    steps: int  # history steps on its path (a hypothesis ending at step t has t + 1)
    finished: bool


class _History:
    """Per-step backpointers: ``parent[t][j]`` is the row that row ``j`` continued at step
    ``t``, ``column[t][j]`` the column it chose, ``attention[t]`` f32[K, S] the step's rows."""

    def __init__(self) -> None:
        self.parent: list[list[int]] = []
        self.column: list[list[int]] = []
        self.attention: list[np.ndarray] = []

    def path(self, row: int, steps: int) -> tuple[list[int], list[np.ndarray]]:
        """Columns and attention rows of the first ``steps`` steps that end in ``row``."""
        cols, rows = [], []
        for t in range(steps - 1, -1, -1):
            cols.append(self.column[t][row])
            row = self.parent[t][row]
            rows.append(self.attention[t][row])
        return cols[::-1], rows[::-1]


def top_rows(scores: list[float], top_values: np.ndarray, top_columns: np.ndarray,
             beams: int, real: int, total: int, skip_col: int, end_col: int
             ) -> list[tuple[float, int]] | None:
    """The expansions a beam step walks, from each row's best columns (an in-graph top-k), or
    None when those may not hold them.

    The walk (:func:`beam_bound`, ``beam_search``) takes expansions best first — by
    ``(-value, flat)``, ``flat = b * real + j`` — until ``beams`` of them do not end a
    hypothesis (column ``end_col``, ``<eos>``). This returns exactly that prefix of the
    :func:`top_expansions` list, as ``(-value, flat)``: a row's k best columns hold it unless
    skipped columns (``real`` and beyond: padding; ``skip_col``: ``<eos>`` before
    ``min_len``) use up the list. A row's walk ends at its ``beams``-th non-ending entry or
    below the ``beams``-th best non-ending value collected so far (entries after those rank
    later: equal values from later columns or rows have larger flat indices, and the
    in-graph top-k lists ties lower column first).

    Args:
        scores: K beam scores (``-inf`` = empty row).
        top_values: f32[K, k] each row's best log probabilities, best first (ties: lower
            column first), already renormalised.
        top_columns: int32[K, k] their columns.
        beams: Rows the walk fills (the beam width).
        real: Columns that may be expanded (the rest of the row is padding).
        total: Columns per row of the step (the top-k ran over them).
        skip_col: A column never expanded at this step, or -1.
        end_col: The column that ends a hypothesis (``<eos>``).
    """
    k = top_columns.shape[1]
    inf = float("inf")
    picked: list[tuple[float, int, bool]] = []  # (-value, flat, ends a hypothesis)
    best: list[float] = []  # min-heap of the ``beams`` best non-ending values so far
    cut = -inf  # its least once full: entries below it are never walked
    for b, (base, vals, cols) in enumerate(zip(scores, top_values.tolist(),
                                               top_columns.tolist())):
        if base == -inf:
            continue
        got = 0
        for v, j in zip(vals, cols):
            if j >= real or j == skip_col:
                continue
            value = base + v
            if not -inf < value < inf:
                return None  # NaN or infinite: the general path decides
            if value < cut:
                break
            if j == end_col:
                picked.append((-value, b * real + j, True))
                continue
            picked.append((-value, b * real + j, False))
            if len(best) < beams:
                heappush(best, value)
                if len(best) == beams:
                    cut = best[0]
            elif value > cut:
                heapreplace(best, value)
                cut = best[0]
            got += 1
            if got == beams:
                break
        else:
            if k < total:
                return None  # the row's list ran out: more of the row may belong
    picked.sort()
    out, n = [], 0
    for neg, flat, ends in picked:
        out.append((neg, flat))
        n += not ends
        if n == beams:
            return out
    return None  # fewer than ``beams`` non-ending expansions listed


def beam_bound(step: BoundSignature, k: int, width: int, max_len: int, bos: int, eos: int,
               alpha: float = 0.0, min_len: int = 0, columns: np.ndarray | None = None,
               valid: int = 0) -> Hypothesis:
    """Beam-search one sentence on a bound ``decode_step`` (or a shortlist step).

    When the step is bound with two outputs after the states — ``top_log_probs`` and
    ``top_columns`` of the beam twin ``decode_step_shortlist_top`` — each step reads those
    K·k entries (k = ``SHORTLIST_TOP``) instead of the whole ``log_probs``
    (:func:`top_rows`); otherwise, or when they may not hold the best expansions, it selects
    on ``log_probs`` (:func:`top_expansions`). The walk takes the same expansions from both.

    Args:
        step: Bound with changing inputs ``[token, *states]`` and outputs
            ``[log_probs, attention, *states(, top_log_probs, top_columns)]``, batch K, every
            other input already set with K identical rows (``Handoff(..., repeat=K)``),
            tokens set to ``<bos>``.
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
    view = w.tensor  # output views, taken after each Invoke (see fast_greedy.greedy_bound)
    token_in, logp_out, att_out, pairs, real, pad_cols, eos_col = bound_layout(
        step, eos, columns, valid)
    top = step.outputs[2 + len(pairs):] if columns is not None else []
    scores = [0.0] + [-np.inf] * (k - 1)  # the K rows start identical: expand the first
    history = _History()
    final: list[_Final] = []  # hypotheses are built at the end, for the winner only

    def ended(row: int, score: float, t: int, finished: bool) -> _Final:
        # a hypothesis ending with <eos> at step t continues a row of step t - 1
        return _Final(score / length_penalty(t + 1, alpha), score, row, t + 1 - finished,
                      finished)

    w.SetTensor(token_in, np.full(k, bos, np.int32), sub)
    for t in range(max_len):
        w.Invoke(sub)
        out = view(w, logp_out, sub)  # f32[K, V] (shortlist: f32[K, C]), never written
        columns_of = out.shape[1]  # the step's columns; log_probs' are the first stride
        stride = columns_of if real is None else real
        corr = pad_corrections(out[:, real], pad_cols) if pad_cols else None
        best = None
        if len(top) == 2:
            values = view(w, top[0], sub)
            best = top_rows(scores, values if corr is None else values - corr[:, None],
                            view(w, top[1], sub), k, stride, columns_of,
                            eos_col if t < min_len else -1, eos_col)
        if best is None:
            log_probs = out if real is None else out[:, :real]
            if corr is not None:
                log_probs = log_probs - corr[:, None]
            elif t < min_len:
                log_probs = log_probs.copy()  # the view is the interpreter's buffer
            if t < min_len:
                log_probs[:, eos_col] = -np.inf
            flat, values = top_expansions(np.array(scores), log_probs, 2 * k)
            best = [(-v, f) for v, f in zip(values.tolist(), flat.tolist()) if isfinite(v)]
        # beam_search's rule: walk the expansions best first; <eos> ends a hypothesis,
        # others fill the K rows; stop once K rows are filled.
        parent, chosen = list(range(k)), [eos_col] * k
        scores, alive = [-np.inf] * k, 0
        for neg, flat in best:
            row, col = divmod(flat, stride)
            if col == eos_col:
                final.append(ended(row, -neg, t, True))
                continue
            parent[alive], chosen[alive], scores[alive] = row, col, -neg
            alive += 1
            if alive == k:
                break
        history.parent.append(parent)
        history.column.append(chosen)
        history.attention.append(w.GetTensor(att_out, sub))
        if t == max_len - 1:
            final += [ended(b, scores[b], t, False) for b in range(alive)]
            break
        if final and sentence_done(final, np.array(scores), t + 1, max_len, k, alpha):
            break
        # take() with the Python lists: a third of the cost of indexing with them
        w.SetTensor(token_in, np.array(chosen, np.int32) if columns is None
                    else columns.take(chosen), sub)
        for i, o in pairs:
            w.SetTensor(i, view(w, o, sub).take(parent, 0), sub)
    if not final:
        return Hypothesis([], float("-inf"), float("-inf"), np.zeros((0, width)), False)
    win = max(final, key=lambda f: f.normalized_score)
    cols, att_rows = history.path(win.row, win.steps)
    ids = cols if columns is None else columns.take(cols).tolist()
    att = np.array(att_rows, np.float32) if att_rows else np.zeros((0, width), np.float32)
    return Hypothesis(ids, win.score, win.normalized_score, att, win.finished)
