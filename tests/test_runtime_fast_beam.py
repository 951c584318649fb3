"""The bound one-sentence beam loop (runtime/fast_beam.py) against the general beam search.

The general path (:func:`~edge_attn.runtime.beam.beam_search` over ``Session.run``, every
input set on every step, whole histories re-gathered per step) is checked against Keras and
against a restricted full-vocabulary reference elsewhere; the bound loop (static inputs set
once with K rows, backpointers, selection without the K·V sum) must return the very same
hypothesis, with and without the vocabulary shortlist.
"""

from __future__ import annotations

import numpy as np
import pytest

from edge_attn.runtime import constants as C
from edge_attn.runtime import fast_beam, load_model
from edge_attn.runtime.beam import top_candidates
from edge_attn.runtime.decoder import encode_feeds
from edge_attn.runtime.fast_beam import top_expansions, top_rows
from edge_attn.runtime.translator import Translator

TEXTS = ["the 3rd of March, 2021", "mercredi 14 juillet 1965", "12/25/49", "1. Mai 2033",
         "April 2nd 1999", "le 1er janvier 2000"]


@pytest.fixture(scope="module")
def plain(tiny_artifacts) -> Translator:
    return Translator(tiny_artifacts["seq2seq"], num_threads=1)


@pytest.fixture(scope="module")
def listed(pipeline) -> Translator:
    return load_model(pipeline["dates-float32-shortlist"])


@pytest.fixture(scope="module")
def listed_int8(pipeline) -> Translator:
    return load_model(pipeline["dates-int8-shortlist"])


def _ids(tr: Translator, text: str) -> list[int]:
    return tr.source_tokenizer.encode(text, add_eos=False)[: tr.source_len]


def _same(a, b) -> None:
    assert a.ids == b.ids and a.finished == b.finished
    assert a.score == b.score and a.normalized_score == b.normalized_score
    np.testing.assert_array_equal(a.attention, b.attention)


@pytest.mark.parametrize("k,alpha,min_len", [(4, 0.0, 0), (4, 0.6, 0), (2, 1.0, 3),
                                             (3, 0.6, "max"), (8, 0.6, 0)])
@pytest.mark.parametrize("which", ["plain", "listed", "listed_int8"])
def test_bound_beam_equals_general_beam(request, monkeypatch, which, k, alpha, min_len):
    tr = request.getfixturevalue(which)
    assert tr.decoder.lean
    shortlist = tr.shortlist if which != "plain" else None
    max_len = tr.max_target_len
    min_len = max_len if min_len == "max" else min_len
    answered = []  # steps selected from the in-graph top-k lists

    def counted(*args):
        got = top_rows(*args)
        answered.append(got is not None)
        return got

    monkeypatch.setattr(fast_beam, "top_rows", counted)
    for text in TEXTS:
        ids = _ids(tr, text)
        fast = tr.decoder.decode([ids], k, max_len, alpha, "soft", min_len, shortlist=shortlist)
        slow = tr.decoder.decode([ids], k, max_len, alpha, "soft", min_len, shortlist=shortlist,
                                 lean=False)
        _same(fast[0], slow[0])
        assert len(fast[0].ids) >= min_len or not fast[0].finished
    if which == "plain":
        assert not answered  # the full-vocabulary step has no top-k outputs
    elif k <= 3:  # its k = min(16, head) listed columns hold the 2K best of small beams
        assert any(answered), answered


def test_translator_single_sentence_beam_equals_its_batch_beam(listed):
    """The Translator takes the bound loop for one sentence and the batch path for several."""
    one = [listed.translate(t, beam=4, length_penalty=0.6)[0] for t in TEXTS]
    batch = listed.translate(TEXTS, beam=4, length_penalty=0.6)
    assert [o.ids for o in one] == [b.ids for b in batch]
    for o, b in zip(one, batch):
        assert o.score == pytest.approx(b.score, abs=1e-5)


def test_handoff_repeat_gives_every_beam_row_the_batch_one_step(plain):
    ids = _ids(plain, TEXTS[0])
    tokens, mask = plain.decoder.source_batch([ids])
    handoff = plain.session.handoff(C.ENCODE, C.DECODE_STEP,
                                    [C.ENC_MEMORY, C.ENC_KEYS, *plain.states],
                                    [C.DEC_TOKEN], [C.DEC_LOG_PROBS, C.DEC_ATTENTION])
    bos = plain.target_tokenizer.BOS_ID
    with handoff(encode_feeds(tokens, mask), {C.DEC_TOKEN: np.array([bos], np.int32),
                                              C.DEC_MASK: mask}) as step:
        one = step(np.array([bos], np.int32))
    with handoff(encode_feeds(tokens, mask), {C.DEC_TOKEN: np.full(3, bos, np.int32),
                                              C.DEC_MASK: np.repeat(mask, 3, axis=0)},
                 repeat=3) as step:
        three = step(np.full(3, bos, np.int32))
    for got, want in zip(three, one):
        assert got.shape[0] == 3
        for row in got:
            np.testing.assert_allclose(row, want[0], rtol=1e-6, atol=1e-6)


def _reference(scores: np.ndarray, log_probs: np.ndarray, m: int) -> np.ndarray:
    cand = (scores[:, None] + log_probs).reshape(-1)
    return np.argsort(-cand, kind="stable")[:m]


@pytest.mark.parametrize("seed", range(40))
def test_top_expansions_equal_a_stable_full_sort(seed):
    rng = np.random.default_rng(seed)
    k, v = int(rng.integers(1, 6)), int(rng.choice([3, 50, 2000]))
    logits = rng.normal(size=(k, v)) * rng.choice([0.5, 4.0])
    if seed % 4 == 0:  # ties: coarse values
        logits = np.round(logits)
    log_probs = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32)
    scores = -np.abs(rng.normal(size=k)) * rng.choice([0.1, 10.0])
    if seed % 5 == 1 and k > 1:
        scores[1:] = -np.inf  # the first step: one live row
    if seed % 7 == 2:
        log_probs[0, : v // 2] = -np.inf  # suppressed columns
    m = 2 * k
    flat, values = top_expansions(scores, log_probs, m)
    want = _reference(scores, log_probs, m)
    np.testing.assert_array_equal(flat, want)
    np.testing.assert_array_equal(values, (scores[:, None] + log_probs).reshape(-1)[want])


def test_top_expansions_fall_back_on_nan_like_the_full_selection():
    log_probs = np.log(np.full((2, 10), 0.1, np.float32))
    log_probs[1, 3] = np.nan
    scores = np.array([0.0, -0.5])
    flat, _ = top_expansions(scores, log_probs, 4)
    cand = (scores[:, None] + log_probs).reshape(1, -1)
    np.testing.assert_array_equal(flat, top_candidates(cand, 4)[0])


def _top_rows_reference(scores, log_probs, beams, real, skip_col, end_col):
    """``(-value, flat)`` of the expansions beam_search's walk takes: of the 2·beams best
    finite expansions of the real columns by a stable full sort (flat = b * real + j;
    ``skip_col`` forbidden when >= 0), the prefix up to the beams-th one that does not end
    a hypothesis (column ``end_col``); None when there are fewer such."""
    lp = log_probs[:, :real].copy()
    if skip_col >= 0:
        lp[:, skip_col] = -np.inf
    cand = (scores[:, None] + lp).reshape(-1)
    out, n = [], 0
    for f in np.argsort(-cand, kind="stable")[: 2 * beams]:
        if not np.isfinite(cand[f]):
            break
        out.append((-float(cand[f]), int(f)))
        n += int(f) % real != end_col
        if n == beams:
            return out
    return None


def _check_top_rows(seed: int) -> bool:
    """Whether top_rows answered (its answer checked) on random case ``seed``."""
    rng = np.random.default_rng(seed)
    k_beams, total = int(rng.integers(1, 6)), int(rng.choice([12, 40, 600]))
    top = min(16, total)
    logits = rng.normal(size=(k_beams, total)) * rng.choice([1.0, 4.0])
    log_probs = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32)
    if seed % 3 == 0:  # int8 log-softmax output: steps of 1/16, many ties
        log_probs = (np.round(log_probs * 16) / 16).astype(np.float32)
    real = total - int(rng.integers(0, 4))  # the rest is padding
    scores = -np.abs(rng.normal(size=k_beams)) * rng.choice([0.1, 10.0])
    if seed % 5 == 1 and k_beams > 1:
        scores[1:] = -np.inf
    end_col = int(rng.integers(0, 3))  # the <eos> column
    skip_col = end_col if seed % 2 else -1  # <eos> forbidden (before min_len)
    cols = np.argsort(-log_probs, axis=1, kind="stable")[:, :top].astype(np.int32)
    vals = np.take_along_axis(log_probs, cols, 1)
    got = top_rows(scores.tolist(), vals, cols, k_beams, real, total, skip_col, end_col)
    want = _top_rows_reference(scores, log_probs, k_beams, real, skip_col, end_col)
    if got is not None:
        assert got == want
    else:
        assert top < total or want is None, "declined although every row is fully listed"
    return got is not None


@pytest.mark.parametrize("seed", range(60))
def test_top_rows_equal_a_stable_full_sort_or_decline(seed):
    """Each row's k best columns (what the step's in-graph top-k outputs) give the
    expansions the beam walks exactly — with padding columns, a forbidden or an ending
    <eos>, empty rows, int8-like ties — or None when they may not hold them."""
    _check_top_rows(seed)


def test_top_rows_answer_the_common_case():
    """Beams of 1-5 over 16 listed columns: the lists hold the answer in most cases."""
    answered = sum(_check_top_rows(s) for s in range(60))
    assert answered >= 45, answered


def test_top_rows_decline_when_too_many_listed_columns_are_padding():
    log_probs = np.log(np.full((1, 40), 1 / 40, np.float32))
    log_probs[0, 28:] = 0.0  # 12 padding columns lead the list: 4 real ones follow
    cols = np.argsort(-log_probs, axis=1, kind="stable")[:, :16].astype(np.int32)
    vals = np.take_along_axis(log_probs, cols, 1)
    # the walk needs 4 columns that are not <eos> (column 0): the list holds 3
    assert top_rows([0.0], vals, cols, 4, 28, 40, -1, 0) is None
    assert _top_rows_reference(np.zeros(1), log_probs, 4, 28, -1, 0) is not None
    # with <eos> elsewhere the 4 listed real columns are the answer
    assert top_rows([0.0], vals, cols, 4, 28, 40, -1, 35) == _top_rows_reference(
        np.zeros(1), log_probs, 4, 28, -1, 35)
