"""Greedy and beam search on hand-made step functions (pure numpy, no interpreter)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_attn.runtime.beam import beam_search, greedy_search, length_penalty, top_candidates

BOS, EOS = 2, 3
V, S = 6, 3


def _table_step(table: dict[tuple[int, ...], list[float]]):
    """A step whose next-token probabilities depend on the prefix (kept in the state)."""

    def step(tokens, state):
        prefixes = [tuple(p) + (int(t),) for p, t in zip(state["prefix"], tokens)]
        probs = np.array([table.get(p[1:], [1 / V] * V) for p in prefixes], np.float64)
        log_probs = np.log(np.maximum(probs, 1e-12)).astype(np.float32)
        att = np.tile(np.eye(S, dtype=np.float32)[len(prefixes[0]) % S], (len(tokens), 1))
        prefix = np.empty(len(prefixes), object)
        prefix[:] = prefixes
        return log_probs, {"prefix": prefix}, att

    return step


def _state(rows: int) -> dict:
    prefix = np.empty(rows, object)
    prefix[:] = [()] * rows
    return {"prefix": prefix}


# Greedy takes 4 (p=.5) then is stuck with a flat distribution; 5 (p=.4) leads to EOS (p=.9).
TABLE = {
    (): [0, 0, 0, 0, 0.5, 0.4],
    (4,): [0, 0.25, 0, 0.25, 0.25, 0.25],
    (5,): [0, 0.05, 0, 0.9, 0.05, 0],
    (4, 4): [0, 0, 0, 1.0, 0, 0], (4, 1): [0, 0, 0, 1.0, 0, 0],
    (4, 5): [0, 0, 0, 1.0, 0, 0],
}


def test_beam_finds_a_better_hypothesis_than_greedy():
    step = _table_step(TABLE)
    (g,) = greedy_search(step, _state(1), 1, 5, BOS, EOS)
    (b,) = beam_search(step, _state(2), 1, 2, 5, BOS, EOS)
    assert b.ids == [5] and b.finished
    assert b.score == pytest.approx(np.log(0.4) + np.log(0.9), abs=1e-6)
    assert b.score > g.score
    assert b.attention.shape == (1, S)


def test_beam_width_one_equals_greedy_without_length_penalty():
    step = _table_step(TABLE)
    (g,) = greedy_search(step, _state(1), 1, 5, BOS, EOS)
    (b,) = beam_search(step, _state(1), 1, 1, 5, BOS, EOS)
    assert b.ids == g.ids and abs(b.score - g.score) < 1e-6


def test_batched_beams_are_independent():
    step = _table_step(TABLE)
    hyps = beam_search(step, _state(6), 3, 2, 5, BOS, EOS)
    assert [h.ids for h in hyps] == [[5]] * 3


def test_max_len_keeps_unfinished_hypotheses():
    flat = _table_step({})
    (g,) = greedy_search(flat, _state(1), 1, 4, BOS, EOS)
    assert len(g.ids) == 4 or g.finished
    (b,) = beam_search(_table_step({(): [0, 0, 0, 0, 1.0, 0], (4,): [0, 0, 0, 0, 1.0, 0],
                                    (4, 4): [0, 0, 0, 0, 1.0, 0]}), _state(2), 1, 2, 3, BOS,
                       EOS)
    assert b.ids == [4, 4, 4] and not b.finished
    assert b.attention.shape == (3, S)


def test_length_penalty():
    assert length_penalty(7, 0.0) == 1.0
    assert length_penalty(1, 1.0) == 1.0
    assert length_penalty(13, 0.5) == 3 ** 0.5 * 1.0


def _full_sort_top(cand: np.ndarray, m: int) -> np.ndarray:
    """The selection beam search used before partial selection: a stable full sort."""
    return np.argsort(-cand, axis=1, kind="stable")[:, :m]


@pytest.mark.parametrize("seed", range(5))
def test_top_candidates_equal_a_stable_full_sort(seed):
    rng = np.random.default_rng(seed)
    cand = rng.normal(size=(3, 4 * 500)).astype(np.float32)
    cand[0, rng.integers(0, cand.shape[1], 50)] = -np.inf
    cand[1, :] = np.round(cand[1], 1)  # many ties: lower index first, like the stable sort
    cand[2, :1995] = -np.inf  # fewer finite candidates than m
    for m in (1, 2, 8, 10):
        np.testing.assert_array_equal(top_candidates(cand, m), _full_sort_top(cand, m))
    np.testing.assert_array_equal(top_candidates(cand[:, :6], 8), _full_sort_top(cand[:, :6], 8))


def _random_step(vocab: int, seed: int):
    """A step with prefix-dependent random log probabilities (deterministic per prefix)."""

    def step(tokens, state):
        prefixes = [tuple(p) + (int(t),) for p, t in zip(state["prefix"], tokens)]
        rows = []
        for p in prefixes:
            rng = np.random.default_rng([seed, *p])
            logits = rng.normal(size=vocab) * 3
            logits[EOS] += len(p) - 3  # sentences end after a few tokens
            rows.append(logits - np.log(np.exp(logits).sum()))
        prefix = np.empty(len(prefixes), object)
        prefix[:] = prefixes
        att = np.full((len(tokens), S), 1 / S, np.float32)
        return np.array(rows, np.float32), {"prefix": prefix}, att

    return step


def _old_beam(step, n, k, max_len, alpha, monkeypatch):
    import edge_attn.runtime.beam as beam_mod

    monkeypatch.setattr(beam_mod, "top_candidates", _full_sort_top)
    try:
        return beam_mod.beam_search(step, _state(n * k), n, k, max_len, BOS, EOS, alpha)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("k,alpha", [(2, 0.0), (4, 0.6), (5, 1.0)])
def test_beam_with_partial_selection_equals_the_full_sort_beam(k, alpha, monkeypatch):
    step = _random_step(300, seed=k)
    new = beam_search(step, _state(3 * k), 3, k, 8, BOS, EOS, alpha)
    old = _old_beam(step, 3, k, 8, alpha, monkeypatch)
    assert [h.ids for h in new] == [h.ids for h in old]
    assert [h.score for h in new] == [h.score for h in old]
    assert any(len(h.ids) > 1 for h in new)


def test_margin_path_on_log_probability_rows_equals_a_stable_full_sort():
    from edge_attn.runtime.beam import _above_margin

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(5, 4 * 800)) * 10
    cand = logits - np.log(np.exp(logits).sum(-1, keepdims=True)) - 3.0
    cand[1, 17] = cand[1, 905] = cand[1].max()  # a tie at the top: lower index first
    cand[2, :] = np.round(cand[2], 1)
    for m in (2, 8):
        assert all(_above_margin(row, m) is not None for row in cand)  # the fast path
        np.testing.assert_array_equal(top_candidates(cand, m), _full_sort_top(cand, m))
    flat = np.zeros((1, 3000))  # everything within the margin, all tied
    np.testing.assert_array_equal(top_candidates(flat, 8), _full_sort_top(flat, 8))
    spread = np.linspace(0, -100, 3000)[None]  # fewer than m within the margin: fallback
    assert _above_margin(spread[0], 1000) is None
    np.testing.assert_array_equal(top_candidates(spread, 1000), _full_sort_top(spread, 1000))
