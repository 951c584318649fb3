"""The bound batch-1 greedy loop (runtime/fast_greedy.py) against the general decode path.

The general path (:func:`~edge_attn.runtime.beam.greedy_search` over ``Session.run``, every
input set on every step) is checked against Keras elsewhere; here the lean loop, which sets
memory/keys/mask once and then only token and state, must give the very same hypothesis.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge_attn.runtime import constants as C
from edge_attn.runtime.beam import greedy_search
from edge_attn.runtime.errors import InputError
from edge_attn.runtime.model import encode_source
from edge_attn.runtime.translator import Translator


@pytest.fixture(scope="module")
def translator(tiny_artifacts) -> Translator:
    return Translator(tiny_artifacts["seq2seq"], num_threads=1)


@pytest.fixture(scope="module")
def sources(translator, tiny_artifacts) -> list[list[int]]:
    tok = translator.source_tokenizer
    out = []
    for text in tiny_artifacts["expected"]["seq2seq_greedy"]:
        if len(tok.encode(text, add_eos=False)) <= translator.source_len:
            out.append(encode_source(tok, text, translator.source_len, translator.add_bos,
                                     translator.add_eos)[0])
    assert len(out) >= 3
    return out


def _general(tr: Translator, ids: list[int], max_len: int, alpha: float, min_len: int):
    step, state = tr.decoder.stepper([ids], "soft", 1, min_len=min_len)
    hyp = greedy_search(step, state, 1, max_len, tr.target_tokenizer.BOS_ID,
                        tr.target_tokenizer.EOS_ID, alpha)[0]
    hyp.attention = hyp.attention[:, : len(ids)]
    return hyp


def test_translator_uses_the_bound_loop(translator):
    assert translator.decoder.lean  # float I/O: the lean loop is the one tested


@pytest.mark.parametrize("min_len", [0, 2, "max"])
def test_bound_loop_equals_general_path(translator, sources, min_len):
    max_len = translator.max_target_len
    min_len = max_len if min_len == "max" else min_len
    for ids in sources:
        fast = translator.decoder.decode([ids], 1, max_len, 0.6, "soft", min_len)[0]
        ref = _general(translator, ids, max_len, 0.6, min_len)
        assert fast.ids == ref.ids
        assert fast.score == ref.score and fast.normalized_score == ref.normalized_score
        assert fast.finished == ref.finished
        np.testing.assert_array_equal(fast.attention, ref.attention)
        assert len(fast.ids) >= min_len or fast.finished is False


def test_min_len_equal_max_len_forces_every_step(translator):
    r = translator.translate("the 3rd of March, 2021", max_len=5, min_len=5)[0]
    assert len(r.ids) == 5 and not r.finished
    assert translator.target_tokenizer.EOS_ID not in r.ids


@pytest.mark.parametrize("min_len", [-1, 99, 1.5])
def test_bad_min_len_is_an_input_error(translator, min_len):
    with pytest.raises(InputError, match="min_len"):
        translator.translate("the 3rd of March, 2021", max_len=10, min_len=min_len)


def _source(translator, ids):
    tokens = np.zeros((1, translator.source_len), np.int32)
    tokens[0, : len(ids)] = ids
    return {C.ENC_TOKENS: tokens, C.ENC_MASK: (tokens != 0).astype(np.float32)}


def test_handoff_loop_call_equals_run(translator, sources):
    enc_in = _source(translator, sources[0])
    enc = translator.session.run(C.ENCODE, enc_in)
    token = np.full(1, translator.target_tokenizer.BOS_ID, np.int32)
    feeds = {C.DEC_TOKEN: token, C.DEC_MEMORY: enc[C.ENC_MEMORY], C.DEC_KEYS: enc[C.ENC_KEYS],
             C.DEC_MASK: enc_in[C.ENC_MASK], **{n: enc[n] for n in translator.states}}
    want = translator.session.run(C.DECODE_STEP, feeds)
    handoff = translator.session.handoff(C.ENCODE, C.DECODE_STEP,
                                         [C.ENC_MEMORY, C.ENC_KEYS, *translator.states],
                                         [C.DEC_TOKEN], [C.DEC_LOG_PROBS, C.DEC_ATTENTION])
    with handoff(enc_in, {C.DEC_TOKEN: token, C.DEC_MASK: enc_in[C.ENC_MASK]}) as step:
        for _ in range(3):  # the static inputs stay put across calls
            log_probs, att = step(token)
            np.testing.assert_array_equal(log_probs, want[C.DEC_LOG_PROBS])
            np.testing.assert_array_equal(att, want[C.DEC_ATTENTION])


def test_run_inside_handoff_is_an_error_not_a_deadlock(translator, sources):
    enc_in = _source(translator, sources[0])
    session = translator.session
    handoff = session.handoff(C.ENCODE, C.DECODE_STEP, [C.ENC_MEMORY], [C.DEC_TOKEN],
                              [C.DEC_LOG_PROBS])
    rest = {C.DEC_TOKEN: np.ones(1, np.int32), C.DEC_MASK: enc_in[C.ENC_MASK],
            C.DEC_KEYS: np.zeros((1, translator.source_len,
                                  session.signatures[C.DECODE_STEP].inputs[C.DEC_KEYS].shape[-1]),
                                 np.float32),
            **{n: np.zeros((1, session.signatures[C.DECODE_STEP].inputs[n].shape[-1]),
                           np.float32) for n in translator.states}}
    with handoff(enc_in, rest):
        with pytest.raises(InputError, match="inside a Session handoff"):
            session.run(C.ENCODE, enc_in)
        with pytest.raises(InputError, match="inside a Session handoff"):
            with handoff(enc_in, rest):
                pass
    assert C.ENC_MEMORY in session.run(C.ENCODE, enc_in)  # the lock was released


def test_handoff_rejects_unknown_or_missing_tensors(translator, sources):
    session = translator.session
    with pytest.raises(InputError, match="no such tensors"):
        session.handoff(C.ENCODE, C.DECODE_STEP, ["nope"], [C.DEC_TOKEN], [C.DEC_LOG_PROBS])
    with pytest.raises(InputError, match="no signature"):
        session.handoff(C.ENCODE, "decode", [], [], [])
    handoff = session.handoff(C.ENCODE, C.DECODE_STEP,
                              [C.ENC_MEMORY, C.ENC_KEYS, *translator.states], [C.DEC_TOKEN],
                              [C.DEC_LOG_PROBS])
    enc_in = _source(translator, sources[0])
    with pytest.raises(InputError, match="takes inputs"):
        with handoff(enc_in, {C.DEC_TOKEN: np.ones(1, np.int32)}):  # mask missing
            pass
    assert C.ENC_MEMORY in session.run(C.ENCODE, enc_in)  # nothing left locked


def test_threads_mixing_bound_loop_batches_and_beams(translator, tiny_artifacts):
    texts = [t for t in tiny_artifacts["expected"]["seq2seq_greedy"]
             if len(translator.source_tokenizer.encode(t, add_eos=False))
             <= translator.source_len]
    single = [translator.translate(t)[0].ids for t in texts]
    beams = [r.ids for r in translator.translate(texts, beam=2)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                if i % 3 == 0:
                    assert [translator.translate(t)[0].ids for t in texts] == single
                elif i % 3 == 1:
                    assert [r.ids for r in translator.translate(texts)] == single
                else:
                    assert [r.ids for r in translator.translate(texts, beam=2)] == beams
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("bad_id", [-1, 10**6])
def test_run_rejects_token_ids_outside_the_vocabulary(translator, bad_id: int) -> None:
    session, s_len = translator.session, translator.source_len
    tokens = np.full((1, s_len), bad_id, np.int32)
    with pytest.raises(InputError, match="encode.*rejected its inputs"):
        session.run(C.ENCODE, {C.ENC_TOKENS: tokens, C.ENC_MASK: np.ones((1, s_len), "f4")})
    # the session stays usable
    ok = session.run(C.ENCODE, {C.ENC_TOKENS: np.ones((1, s_len), np.int32),
                                C.ENC_MASK: np.ones((1, s_len), "f4")})
    assert np.isfinite(ok[C.ENC_MEMORY]).all()


def test_outputs_read_through_views_survive_re_allocation(tiny_artifacts, sources):
    """The bound loops read outputs through views of the interpreter's buffers: a beam (the
    step re-sized to K rows) between two greedy sentences (re-sized back to one row, the
    encoder outputs then handed over again) must not change either result."""
    tr = Translator(tiny_artifacts["seq2seq"], num_threads=1)
    fresh = Translator(tiny_artifacts["seq2seq"], num_threads=1)
    for ids in sources[:3]:
        want = fresh.decoder.decode([ids], 1, None, 0.0, "soft", 2)[0]
        beam_want = fresh.decoder.decode([ids], 3, None, 0.0, "soft", 2)[0]
        for _ in range(2):
            got = tr.decoder.decode([ids], 1, None, 0.0, "soft", 2)[0]
            beam = tr.decoder.decode([ids], 3, None, 0.0, "soft", 2)[0]
            assert got.ids == want.ids and got.score == want.score
            np.testing.assert_array_equal(got.attention, want.attention)
            assert beam.ids == beam_want.ids and beam.score == beam_want.score
