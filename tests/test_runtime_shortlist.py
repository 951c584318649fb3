"""Vocabulary shortlist: candidate sets, the binary member, exact renormalisation, decoding
over columns — against hand computations and full-vocabulary references (no interpreter)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_attn.runtime.beam import beam_search, greedy_search
from edge_attn.runtime.errors import ArtifactError
from edge_attn.runtime.shortlist import BUCKET, EXTRA_BUCKET, Shortlist
from edge_attn.runtime.shortlist_decode import ShortlistStep, renormalize

PAD, UNK, BOS, EOS = 0, 1, 2, 3


def _shortlist() -> Shortlist:
    always = np.array([1, 3, 4], np.int32)
    table = np.array([[-1, -1], [-1, -1], [-1, -1], [-1, -1], [7, 9], [9, 2], [0, -1]],
                     np.int32)
    return Shortlist(always, table, target_vocab=12)


def test_candidates_put_eos_first_then_sorted_ids_then_pad_padding():
    ids, n = _shortlist().candidates([4, 5, 6], EOS, never=(BOS,))
    # always {1,3,4} ∪ table rows {7,9} ∪ {9,2} ∪ {0}; minus <pad>, <bos>; <eos> first
    assert n == 5 and list(ids[:n]) == [EOS, 1, 4, 7, 9]
    assert len(ids) == BUCKET and not ids[n:].any()


def test_head_layout_puts_the_shared_head_first_then_the_sentence_extras_then_fillers():
    sl = _shortlist()
    head = sl.head(EOS, never=(BOS,))
    assert list(head) == [EOS, 1, 4]  # <eos>, then always {1, 3, 4} without <eos>
    ids, n = sl.candidates([4, 5, 6], EOS, never=(BOS,), head=head)
    # extras: table rows {7, 9} ∪ {9, 2} ∪ {0} minus the head, <pad> and <bos>; then the
    # fillers: every other id of the 12 that may be an extra (not <pad>, <bos>, <eos>, the
    # head, the extras): 5, 6, 8, 10, 11 — fewer than the bucket's 14 free columns
    assert list(ids[:n]) == [EOS, 1, 4, 7, 9, 5, 6, 8, 10, 11]
    assert len(ids) == 3 + EXTRA_BUCKET and not ids[n:].any()
    ids, n = sl.candidates([0, 1], EOS, never=(BOS,), head=head)  # no extras: fillers only
    assert list(ids[:n]) == [EOS, 1, 4, 5, 6, 7, 8, 9, 10, 11]
    assert len(ids) == 3 + EXTRA_BUCKET and not ids[n:].any()


def test_head_layout_holds_the_table_set_and_fills_the_bucket_with_the_lowest_other_ids():
    rng = np.random.default_rng(0)
    always = np.sort(rng.choice(np.arange(1, 200), 40, replace=False)).astype(np.int32)
    sl = Shortlist(always, rng.integers(-1, 200, (50, 6)).astype(np.int32), 200)
    head = sl.head(EOS, (BOS,))
    for _ in range(20):
        src = rng.integers(0, 50, rng.integers(1, 12))
        a, na = sl.candidates(src, EOS, (BOS,))  # the table's own set (head-less layout)
        b, nb = sl.candidates(src, EOS, (BOS,), head)
        own = set(a[:na].tolist())
        assert nb == len(b) and len(set(b[:nb])) == nb  # a large vocabulary: no padding
        assert b[0] == EOS and BOS not in b[:nb] and PAD not in b[:nb]
        np.testing.assert_array_equal(b[: len(head)], head)
        k = len(head) + len(own - set(head.tolist()))
        assert set(b[:k].tolist()) == own  # head and extras: the table's set, nothing else
        others = [i for i in range(200) if i not in own and i not in (PAD, BOS, EOS)]
        assert b[k:].tolist() == others[: nb - k]  # then the lowest ids not in it


def test_bytes_round_trip_and_corrupt_members_are_refused():
    sl = _shortlist()
    data = sl.to_bytes()
    back = Shortlist.from_bytes(data, 3, 7, 2, 12)
    np.testing.assert_array_equal(back.always, sl.always)
    np.testing.assert_array_equal(back.table, sl.table)
    with pytest.raises(ArtifactError, match="bytes"):
        Shortlist.from_bytes(data[:-4], 3, 7, 2, 12)
    with pytest.raises(ArtifactError, match="outside"):
        Shortlist.from_bytes(data, 3, 7, 2, 9)  # id 9 >= V
    bad = np.frombuffer(data, "<i4").copy()
    bad[5] = -7
    with pytest.raises(ArtifactError, match="outside"):
        Shortlist.from_bytes(bad.tobytes(), 3, 7, 2, 12)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_renormalize_equals_a_softmax_over_the_real_candidates_only():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(3, 10)) * 2
    pad_logit = np.array([-1.0, 0.5, -3.0])
    valid = np.array([10, 6, 3])
    width = 16
    logits = np.empty((3, width))
    for b in range(3):  # what the model computes: padding columns all hold <pad>'s logit
        logits[b, : valid[b]] = real[b, : valid[b]]
        logits[b, valid[b]:] = pad_logit[b]
    got = renormalize(_log_softmax(logits).astype(np.float32), valid)
    for b in range(3):
        want = _log_softmax(real[b, : valid[b]])
        np.testing.assert_allclose(got[b, : valid[b]], want, atol=1e-5)
        assert np.all(got[b, valid[b]:] == -np.inf)


def _full_step(vocab: int, seed: int):
    """A full-vocabulary step with prefix-dependent log probabilities (state = prefix)."""

    def logits_for(prefix: tuple[int, ...]) -> np.ndarray:
        x = np.random.default_rng([seed, *prefix]).normal(size=vocab) * 3
        x[EOS] += len(prefix) - 3
        return x

    def step(tokens, state):
        prefixes = [tuple(p) + (int(t),) for p, t in zip(state["prefix"], tokens)]
        logits = np.array([logits_for(p) for p in prefixes])
        prefix = np.empty(len(prefixes), object)
        prefix[:] = prefixes
        return logits, {"prefix": prefix}, np.ones((len(tokens), 2), np.float32) / 2

    return step


def _state(rows: int) -> dict:
    prefix = np.empty(rows, object)
    prefix[:] = [()] * rows
    return {"prefix": prefix}


def _steps(full, columns: np.ndarray, valid: np.ndarray):
    """``(model_step, reference)``: what ``decode_step_shortlist`` returns (log-softmax over
    the C columns, padding included) and a full-vocabulary step where only the row's real
    candidates are possible (log-softmax over them)."""

    def model_step(ids, state):
        logits, state, att = full(ids, state)
        return (_log_softmax(np.take_along_axis(logits, columns, 1)).astype(np.float32),
                state, att)

    def reference(ids, state):
        logits, state, att = full(ids, state)
        out = np.full_like(logits, -np.inf)
        for r in range(len(ids)):
            c = columns[r, : valid[r]]
            out[r, c] = _log_softmax(logits[r, c])
        return out.astype(np.float32), state, att

    return model_step, reference


CANDS = [np.array([EOS, 5, 8, 11, 20, 33], np.int32), np.array([EOS, 4, 6, 9], np.int32)]


def _columns(rows_per_sentence: int) -> tuple[np.ndarray, np.ndarray]:
    columns = np.zeros((len(CANDS) * rows_per_sentence, 8), np.int32)  # 8: bucket w/ padding
    for s, c in enumerate(CANDS):
        columns[s * rows_per_sentence:(s + 1) * rows_per_sentence, : len(c)] = c
    return columns, np.repeat([len(c) for c in CANDS], rows_per_sentence)


@pytest.mark.parametrize("k", [1, 3])
def test_decoding_over_shortlist_columns_equals_decoding_the_restricted_vocabulary(k):
    n = len(CANDS)
    columns, valid = _columns(k)
    model_step, reference = _steps(_full_step(40, seed=k), columns, valid)
    step = ShortlistStep(model_step, columns, valid, BOS)
    if k == 1:
        got = greedy_search(step, _state(n), n, 6, ShortlistStep.BOS_COLUMN,
                            ShortlistStep.EOS_COLUMN)
        want = greedy_search(reference, _state(n), n, 6, BOS, EOS)
    else:
        got = beam_search(step, _state(n * k), n, k, 6, ShortlistStep.BOS_COLUMN,
                          ShortlistStep.EOS_COLUMN, 0.6)
        want = beam_search(reference, _state(n * k), n, k, 6, BOS, EOS, 0.6)
    for s, (g, w) in enumerate(zip(got, want)):
        assert step.to_ids(s * k, g.ids) == w.ids
        assert g.score == pytest.approx(w.score, abs=1e-4)
        assert g.finished == w.finished
    assert any(len(w.ids) > 1 for w in want)
