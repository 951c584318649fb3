"""Translator on a tiny real artifact: fidelity to Keras, search, attention modes, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge_attn.runtime import TruncationWarning
from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import InputError
from edge_attn.runtime.translator import Translator


@pytest.fixture(scope="module")
def translator(tiny_artifacts) -> Translator:
    return Translator(tiny_artifacts["seq2seq"], num_threads=1)


@pytest.fixture(scope="module")
def probes(tiny_artifacts) -> dict[str, list[int]]:
    return tiny_artifacts["expected"]["seq2seq_greedy"]


def _fitting(translator: Translator, probes: dict) -> list[str]:
    """Probe texts that fit the source length (no truncation warning)."""
    tok = translator.source_tokenizer
    return [t for t in probes if len(tok.encode(t, add_eos=False)) <= translator.source_len]


def test_fp32_greedy_tokens_equal_keras(translator, probes):
    texts = _fitting(translator, probes)
    assert texts, "fixture must have probe texts that fit"
    for text, result in zip(texts, translator.translate(texts)):
        assert result.ids == probes[text], text
    assert any(probes[t] for t in texts), "the fixture should produce non-empty outputs"


def test_translation_fields(translator, probes):
    text = _fitting(translator, probes)[0]
    r = translator.translate(text)[0]
    assert r.tokens == translator.target_tokenizer.tokens(r.ids)
    assert r.text == translator.target_tokenizer.decode(r.ids)
    assert r.attention.shape == (len(r.ids), len(r.source_tokens))
    assert r.source_tokens == translator.source_tokenizer.split(text)
    assert r.score <= 0 and r.finished and r.source == text
    d = r.to_dict()
    assert d["ids"] == r.ids and len(d["attention"]) == len(r.ids)


def test_batch_equals_one_by_one(translator, probes):
    texts = _fitting(translator, probes)
    batched = translator.translate(texts, batch_size=len(texts))
    for text, b in zip(texts, batched):
        single = translator.translate(text)[0]
        assert single.ids == b.ids
        np.testing.assert_allclose(single.attention, b.attention, atol=1e-5)


def test_attention_rows_sum_to_one_and_padding_is_zero(translator, probes):
    texts = _fitting(translator, probes)
    for r in translator.translate(texts):
        np.testing.assert_allclose(r.attention.sum(axis=1), 1.0, atol=1e-5)
    # The raw decode_step output over the padded length: exactly 0 on padding.
    ids = translator.source_tokenizer.encode(texts[1], add_eos=False)
    step, state = translator.decoder.stepper([ids], "soft", 1)
    _, _, att = step(np.array([2], np.int32), state)
    assert np.all(att[0, len(ids) :] == 0.0)
    assert att[0, : len(ids)].sum() == pytest.approx(1.0, abs=1e-5)


def test_beam_one_is_greedy_and_beam_four_scores_at_least_greedy(translator, probes):
    texts = _fitting(translator, probes)
    greedy = translator.translate(texts, beam=1)
    beam1 = translator.translate(texts, beam=1, length_penalty=0.0)
    assert [g.ids for g in greedy] == [b.ids for b in beam1]
    beam4 = translator.translate(texts, beam=4, length_penalty=0.0)
    for g, b in zip(greedy, beam4):
        # batch-of-4 and batch-of-1 invocations round differently (~1e-6 on a log prob)
        assert b.score >= g.score - 1e-5
        assert b.attention.shape == (len(b.ids), len(b.source_tokens))


def test_beam_search_module_with_width_one_matches_greedy(translator, probes):
    from edge_attn.runtime.beam import beam_search

    texts = _fitting(translator, probes)
    batch = [translator.source_tokenizer.encode(t, add_eos=False) for t in texts]
    step, state = translator.decoder.stepper(batch, "soft", 1)
    hyps = beam_search(step, state, len(batch), 1, 10, 2, 3, alpha=0.0)
    assert [h.ids for h in hyps] == [probes[t] for t in texts]


def test_hard_attention_rows_are_one_hot(translator, probes):
    for r in translator.translate(_fitting(translator, probes), attention_mode="hard"):
        assert r.attention.size
        assert set(np.unique(r.attention)) <= {0.0, 1.0}
        np.testing.assert_array_equal(r.attention.sum(axis=1), 1.0)


def test_monotonic_argmax_never_decreases(translator, probes):
    texts = _fitting(translator, probes)
    soft = translator.translate(texts)
    mono = translator.translate(texts, attention_mode="monotonic")
    assert any(np.any(np.diff(r.attention.argmax(axis=1)) < 0) for r in soft), (
        "fixture should have soft attention that moves backwards"
    )
    for r in mono + translator.translate(texts, beam=3, attention_mode="monotonic"):
        assert np.all(np.diff(r.attention.argmax(axis=1)) >= 0)
        np.testing.assert_allclose(r.attention.sum(axis=1), 1.0, atol=1e-5)


def test_replace_unk_copies_most_attended_source_word(translator, probes):
    unk = translator.target_tokenizer.UNK_ID
    texts = [t for t in _fitting(translator, probes) if unk in probes[t]]
    assert texts, "fixture should produce <unk>"
    plain = translator.translate(texts[0])[0]
    replaced = translator.translate(texts[0], replace_unk=True)[0]
    assert replaced.ids == plain.ids
    for i, tid in enumerate(plain.ids):
        if tid == unk:
            want = plain.source_tokens[int(np.argmax(plain.attention[i]))]
            assert replaced.tokens[i] == want
        else:
            assert replaced.tokens[i] == plain.tokens[i]
    assert "<unk>" not in replaced.text and "<unk>" in plain.text


def test_stream_yields_the_translate_tokens(translator, probes):
    for text in _fitting(translator, probes):
        assert list(translator.stream(text)) == translator.translate(text)[0].tokens
        assert (
            list(translator.stream(text, replace_unk=True))
            == translator.translate(text, replace_unk=True)[0].tokens
        )


def test_threads_share_one_translator(translator, probes):
    texts = _fitting(translator, probes)
    want = [r.ids for r in translator.translate(texts, beam=2)]
    results, errors = [None] * 8, []

    def work(i: int) -> None:
        try:
            batch = texts if i % 2 else texts[:1]  # different batch sizes force resizes
            got = [r.ids for r in translator.translate(batch, beam=2)]
            results[i] = got
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, got in enumerate(results):
        assert got == (want if i % 2 else want[:1])


def test_over_long_source_is_truncated_with_warning(translator):
    text = "the cat sat on the mat in the park with my dog"
    n = len(translator.source_tokenizer.encode(text, add_eos=False))
    assert n > translator.source_len
    with pytest.warns(
        TruncationWarning,
        match=rf"{n} tokens.*truncated to "
        rf"{translator.source_len}",
    ):
        r = translator.translate(text)[0]
    assert len(r.source_tokens) == translator.source_len
    assert r.attention.shape[1] == translator.source_len


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_an_input_error(translator, text):
    with pytest.raises(InputError, match="empty"):
        translator.translate(text)


def test_text_that_tokenizes_to_nothing_is_an_input_error(translator):
    with pytest.raises(InputError, match="tokenizes to nothing"):
        translator.translate("\u200b\x00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beam": 0},
        {"max_len": 0},
        {"attention_mode": "x"},
        {"length_penalty": -1.0},
        {"batch_size": 0},
    ],
)
def test_bad_options_are_input_errors(translator, kwargs):
    with pytest.raises(InputError):
        translator.translate("the 3rd of March, 2021", **kwargs)


def test_max_len_caps_output(translator):
    r = translator.translate("the cat sat on the mat", max_len=2)[0]
    assert len(r.ids) <= 2
    assert r.attention.shape[0] == len(r.ids)


def test_signature_names_are_the_contract(translator):
    assert set(translator.session.signatures) == {C.ENCODE, C.DECODE_STEP}
    assert translator.kind == C.SEQ2SEQ
    assert translator.backend_name.split()[0] in ("ai-edge-litert", "tflite-runtime")
