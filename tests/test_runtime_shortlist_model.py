"""A real artifact with a vocabulary shortlist (``decode_step_shortlist``), in both envs.

Reference: the same model's full-vocabulary ``decode_step`` (itself checked against Keras
elsewhere) with every non-candidate id made impossible and the log-softmax renormalised over
the candidates — what a shortlist means. The shortlist step gathers the output rows inside
the graph instead; in float32 the two agree to rounding and decode to the same ids.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from edge_attn.runtime import constants as C
from edge_attn.runtime import load_model
from edge_attn.runtime.beam import beam_search, greedy_search
from edge_attn.runtime.decoder import decode_feeds
from edge_attn.runtime.errors import ArtifactError, InputError

TEXTS = ["the 3rd of March, 2021", "mercredi 14 juillet 1965", "12/25/49", "1. Mai 2033"]


@pytest.fixture(scope="module")
def tr(pipeline):
    return load_model(pipeline["dates-float32-shortlist"])


def _ids(tr, text):
    return tr.source_tokenizer.encode(text, add_eos=False)[: tr.source_len]


def _restricted_step(tr, batch_ids, repeat=1, fillers=True):
    """Full-vocabulary step; ids outside each row's candidates impossible, renormalised.
    The candidates: the table's set plus the fillers of the head layout, or (``fillers``
    False) the table's set alone, as a step exported before the head scores it."""
    step, state = tr.decoder.stepper(batch_ids, "soft", repeat)
    tgt = tr.target_tokenizer
    allowed = np.zeros((len(batch_ids), tr.decoder.vocab_size), bool)
    head = tr.decoder.shortlist_head(tr.shortlist) if fillers else None
    for i, ids in enumerate(batch_ids):  # each sentence's own set
        c, n = tr.shortlist.candidates(ids, tgt.EOS_ID, (tgt.PAD_ID, tgt.BOS_ID), head)
        allowed[i, c[:n]] = True
    allowed = np.repeat(allowed, repeat, axis=0)

    def restricted(tokens, st):
        lp, st, att = step(tokens, st)
        lp = np.where(allowed, lp, -np.inf)
        lp = lp - np.log(np.exp(lp - lp.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
            - lp.max(-1, keepdims=True)
        return lp.astype(np.float32), st, att

    return restricted, state


def test_the_shortlist_is_in_the_config_and_really_restricts(tr):
    info = tr.shortlist_info()
    assert info["n_always"] >= 8 and info["per_source"] == 6
    assert 0.5 < info["hit_rate"] <= 1.0
    cols, valid, allowed = tr.decoder.candidates([_ids(tr, t) for t in TEXTS], tr.shortlist)
    assert (allowed.sum(1) < tr.decoder.vocab_size - 2).all()  # fewer than every output id
    assert (cols[:, 0] == tr.target_tokenizer.EOS_ID).all() and allowed[:, 0].all()
    assert info["head"] == len(tr.decoder.shortlist_head(tr.shortlist))


def test_shortlist_step_equals_the_full_step_restricted_to_the_candidates(tr):
    batch = [_ids(tr, t) for t in TEXTS]
    tokens, mask = tr.decoder.source_batch(batch)
    enc = tr.session.run(C.ENCODE, {C.ENC_TOKENS: tokens, C.ENC_MASK: mask})
    cols, valid, allowed = tr.decoder.candidates(batch, tr.shortlist)
    prev = np.array([tr.target_tokenizer.BOS_ID] * len(batch), np.int32)
    states = {n: enc[n] for n in tr.states}
    feeds = decode_feeds(prev, enc[C.ENC_MEMORY], enc[C.ENC_KEYS], mask, states)
    full = tr.session.run(C.DECODE_STEP, feeds)[C.DEC_LOG_PROBS]
    short = tr.session.run(C.DECODE_STEP_SHORTLIST,
                           dict(feeds, **tr.decoder.shortlist_feed(cols, tr.shortlist))
                           )[C.DEC_LOG_PROBS]
    from edge_attn.runtime.shortlist_decode import restrict

    assert short.shape == cols.shape  # one column per candidate, head and shared extras
    short = restrict(short, allowed)
    for i in range(len(batch)):
        ref = full[i, cols[i, allowed[i]]]
        ref = ref - np.log(np.exp(ref).sum())
        np.testing.assert_allclose(short[i, allowed[i]], ref, atol=1e-5)
        assert np.isneginf(short[i, ~allowed[i]]).all()


def test_greedy_with_shortlist_equals_restricted_greedy_on_every_path(tr):
    batch = [_ids(tr, t) for t in TEXTS]
    step, state = _restricted_step(tr, batch)
    bos, eos = tr.target_tokenizer.BOS_ID, tr.target_tokenizer.EOS_ID
    want = greedy_search(step, state, len(batch), tr.max_target_len, bos, eos)
    lean = [tr.translate(t)[0] for t in TEXTS]  # one sentence: the bound loop
    general = tr.translate(TEXTS, batch_size=4)  # a batch: greedy over columns
    for w, a, b in zip(want, lean, general):
        assert a.ids == w.ids == b.ids
        assert a.score == pytest.approx(w.score, abs=1e-4)
        assert b.score == pytest.approx(w.score, abs=1e-4)
        np.testing.assert_allclose(a.attention, w.attention[:, : a.attention.shape[1]],
                                   atol=1e-6)
    forced = tr.translate(TEXTS[0], min_len=6, max_len=6)[0]
    assert len(forced.ids) == 6


def test_beam_with_shortlist_equals_restricted_beam(tr):
    batch = [_ids(tr, t) for t in TEXTS]
    k = 3
    step, state = _restricted_step(tr, batch, k)
    bos, eos = tr.target_tokenizer.BOS_ID, tr.target_tokenizer.EOS_ID
    want = beam_search(step, state, len(batch), k, tr.max_target_len, bos, eos, 0.6)
    got = tr.translate(TEXTS, beam=k, length_penalty=0.6)
    assert [g.ids for g in got] == [w.ids for w in want]
    for g, w in zip(got, want):
        assert g.score == pytest.approx(w.score, abs=1e-4)


def test_without_shortlist_the_same_artifact_decodes_the_full_vocabulary(tr, pipeline):
    plain = load_model(pipeline["dates-float32"])
    assert not plain.has_shortlist
    assert [t.ids for t in tr.translate(TEXTS, shortlist=False)] == \
        [t.ids for t in plain.translate(TEXTS)]
    with pytest.raises(InputError, match="no vocabulary shortlist"):
        plain.translate(TEXTS[0], shortlist=True)


def test_int8_shortlist_agrees_with_int8_full_vocabulary(pipeline):
    q = load_model(pipeline["dates-int8-shortlist"])
    full = [t.ids for t in q.translate(TEXTS, shortlist=False)]
    short = [t.ids for t in q.translate(TEXTS)]
    assert sum(a == b for a, b in zip(full, short)) >= len(TEXTS) - 1


def _rezip(path, edit):
    src = zipfile.ZipFile(path)
    members = {n: src.read(n) for n in src.namelist()}
    edit(members)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return buf.getvalue()


def test_a_damaged_or_missing_shortlist_is_refused(pipeline):
    path = pipeline["dates-float32-shortlist"]

    def flip(m):
        b = bytearray(m[C.SHORTLIST_MEMBER])
        b[10] ^= 1
        m[C.SHORTLIST_MEMBER] = bytes(b)

    with pytest.raises(ArtifactError, match="checksum"):
        load_model(_rezip(path, flip))
    with pytest.raises(ArtifactError, match="missing"):
        load_model(_rezip(path, lambda m: m.pop(C.SHORTLIST_MEMBER)))

    def one_more(field):  # the config's shortlist ``field`` one larger
        def edit(m):
            cfg = json.loads(m[C.CONFIG_MEMBER])
            cfg["seq2seq"]["shortlist"][field] += 1
            m[C.CONFIG_MEMBER] = json.dumps(cfg).encode()
        return edit

    with pytest.raises(ArtifactError, match="bytes"):
        load_model(_rezip(path, one_more("per_source")))
    with pytest.raises(ArtifactError, match="head"):
        load_model(_rezip(path, one_more("head")))


def test_an_artifact_exported_before_the_shortlist_head_still_decodes(pipeline):
    """Its step takes every row's candidates (``candidates``, no head in the config): the
    runtime feeds it that layout — the table's set, ``<pad>`` padding, no fillers — and
    decodes what the full step restricted to that set decodes, alone and in a batch."""
    old = load_model(pipeline["dates-float32-shortlist-prehead"])
    assert old.decoder.shortlist_input == C.DEC_CANDIDATES
    assert old.decoder.shortlist_head(old.shortlist) is None
    assert old.shortlist_info().get("head") is None
    batch = [_ids(old, t) for t in TEXTS]
    bos, eos = old.target_tokenizer.BOS_ID, old.target_tokenizer.EOS_ID
    for k in (1, 3):
        step, state = _restricted_step(old, batch, k, fillers=False)
        want = (greedy_search(step, state, len(batch), old.max_target_len, bos, eos)
                if k == 1 else
                beam_search(step, state, len(batch), k, old.max_target_len, bos, eos))
        lean = [old.translate(t, beam=k)[0] for t in TEXTS]
        together = old.translate(TEXTS, batch_size=4, beam=k)
        assert [a.ids for a in lean] == [b.ids for b in together] == [w.ids for w in want]
        for a, w in zip(lean, want):
            assert a.score == pytest.approx(w.score, abs=1e-4)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_the_beam_twin_is_the_shortlist_step_plus_its_best_columns(pipeline, mode):
    """``decode_step_shortlist_top`` returns what ``decode_step_shortlist`` returns (same
    graph, same quantization: equal on ai-edge-litert, to the last bit of float32 on
    tflite-runtime 2.14, whose delegate splits the two graphs differently) plus each row's best
    columns of its own ``log_probs``, best first, ties (many in int8) to the lower column."""
    q = load_model(pipeline[f"dates-{mode}-shortlist"])
    assert q.decoder.shortlist_top
    batch = [_ids(q, t) for t in TEXTS]
    tokens, mask = q.decoder.source_batch(batch)
    enc = q.session.run(C.ENCODE, {C.ENC_TOKENS: tokens, C.ENC_MASK: mask})
    cols, _, _ = q.decoder.candidates(batch, q.shortlist)
    rng = np.random.default_rng(0)
    for step in range(3):  # <bos>, then random candidates and perturbed states
        prev = (np.full(len(batch), q.target_tokenizer.BOS_ID, np.int32) if step == 0
                else cols[np.arange(len(batch)), rng.integers(1, 6, len(batch))])
        states = {n: enc[n] + (step > 0) * rng.normal(0, 0.5, enc[n].shape).astype(np.float32)
                  for n in q.states}
        feeds = dict(decode_feeds(prev.astype(np.int32), enc[C.ENC_MEMORY], enc[C.ENC_KEYS],
                                  mask, states), **q.decoder.shortlist_feed(cols, q.shortlist))
        plain = q.session.run(C.DECODE_STEP_SHORTLIST, feeds)
        out = q.session.run(C.DECODE_STEP_SHORTLIST_TOP, feeds)
        for name, value in plain.items():
            np.testing.assert_allclose(out[name], value, rtol=1e-5, atol=1e-6)
        lp, top = out[C.DEC_LOG_PROBS], out[C.DEC_TOP_COLUMNS]
        k = min(C.SHORTLIST_TOP, len(q.decoder.shortlist_head(q.shortlist)))
        assert top.shape == (len(batch), k)
        np.testing.assert_array_equal(top, np.argsort(-lp, axis=1, kind="stable")[:, :k])
        np.testing.assert_array_equal(out[C.DEC_TOP_LOG_PROBS], np.take_along_axis(lp, top, 1))


def test_an_artifact_exported_before_the_beam_twin_still_decodes(tr, pipeline):
    """It has no ``decode_step_shortlist_top``: the beam reads ``log_probs`` of the shortlist
    step and returns what the artifact with the twin returns (same checkpoint; the scores to
    float32 rounding, see the test above)."""
    old = load_model(pipeline["dates-float32-shortlist-notop"])
    assert not old.decoder.shortlist_top and tr.decoder.shortlist_top
    for kwargs in ({}, {"beam": 2}, {"beam": 4, "length_penalty": 0.6}, {"beam": 3,
                                                                        "min_len": 4}):
        for text in TEXTS:
            a, b = old.translate(text, **kwargs)[0], tr.translate(text, **kwargs)[0]
            assert a.ids == b.ids and a.finished == b.finished
            assert a.score == pytest.approx(b.score, abs=1e-5)
            np.testing.assert_allclose(a.attention, b.attention, atol=1e-6)
