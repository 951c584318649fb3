"""Tests of the pure-Python tokenizers in edge_attn.runtime.tokenizer."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest

from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.tokenizer import (
    SentencePieceTokenizer,
    WordTokenizer,
    normalize,
    tokenizer_from_dict,
)

SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]


def word(*tokens: str, level: str = "word") -> WordTokenizer:
    return WordTokenizer([*SPECIALS, *tokens], level=level)


# --- normalisation and splitting -------------------------------------------------------------


def test_normalize_spaces_controls_and_nfkc():
    assert normalize("Va\u202f!") == "va !"
    assert normalize("a\u00a0b\u2009c\u3000d") == "a b c d"
    assert normalize("  a\tb\n\nc\r\n") == "a b c"
    assert normalize("a\x00b\x07c\u200bd\ufeff") == "abcd"
    assert normalize("\ufb01n \uff21\uff22") == "fin ab"  # ligature and full-width letters
    assert normalize("Été À", lowercase=False) == "Été À"
    with pytest.raises(InputError):
        normalize(None)  # type: ignore[arg-type]


def test_split_narrow_nbsp_before_punctuation():
    assert word().split("Va\u202f!") == ["va", "!"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C'est vrai !", ["c", "'", "est", "vrai", "!"]),
        ("vingt-trois", ["vingt", "-", "trois"]),
        ("the 3rd of March, 2021.", ["the", "3rd", "of", "march", ",", "2021", "."]),
        ("Ça a été l’été", ["ça", "a", "été", "l", "’", "été"]),
        ("50% de $5...", ["50", "%", "de", "$", "5", ".", ".", "."]),
        ("(voir « ici »)", ["(", "voir", "«", "ici", "»", ")"]),
        ("2021-03-03", ["2021", "-", "03", "-", "03"]),
    ],
)
def test_word_split(text, expected):
    assert word().split(text) == expected


def test_split_keeps_case_when_asked():
    tok = WordTokenizer(SPECIALS, lowercase=False)
    assert tok.split("Hi, Bob") == ["Hi", ",", "Bob"]


def test_char_level_split_and_round_trip():
    tok = WordTokenizer.build(["Ab c!", "été"], level="char")
    assert tok.split("Ab  c!") == ["a", "b", "▁", "c", "!"]
    # "é" occurs twice; ties are ordered by code point.
    assert tok.vocab == [*SPECIALS, "é", "!", "a", "b", "c", "t", "▁"]
    assert tok.decode(tok.encode("c été a")) == "c été a"
    assert tok.decode(tok.encode("xa")) == "<unk>a"


# --- encode / decode -------------------------------------------------------------------------


def test_encode_ids_bos_eos_unknown():
    tok = word("a", "b")
    assert tok.encode("a b c") == [4, 5, 1, 3]
    assert tok.encode("a b c", add_bos=True) == [2, 4, 5, 1, 3]
    assert tok.encode("a b", add_eos=False) == [4, 5]
    assert tok.encode("") == [3]
    assert tok.token_to_id("zzz") == tok.UNK_ID
    assert tok.id_to_token(5) == "b"
    assert tok.tokens([2, 4, 1, 3, 0]) == ["<bos>", "a", "<unk>", "<eos>", "<pad>"]


def test_encode_max_len_keeps_eos_last():
    tok = word("a", "b")
    assert tok.encode("a b a b", max_len=3) == [4, 5, 3]
    assert tok.encode("a b a b", add_bos=True, max_len=3) == [2, 4, 3]
    assert tok.encode("a b a b", add_eos=False, max_len=2) == [4, 5]
    assert tok.encode("a", max_len=5) == [4, 3]
    with pytest.raises(InputError):
        tok.encode("a", add_bos=True, max_len=1)


def test_decode_stops_at_eos_and_skips_specials():
    tok = word("a", "b")
    assert tok.decode([2, 4, 0, 5, 3, 4, 4]) == "a b"
    assert tok.decode([2, 4, 1, 3], skip_special=False) == "<bos> a <unk> <eos>"
    assert tok.decode([4, 1, 5]) == "a <unk> b"  # unknown words stay visible
    with pytest.raises(InputError):
        tok.decode([4, 99])
    with pytest.raises(InputError):
        tok.id_to_token(-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-03", "2021-03-03"),
        ("C'est vrai !", "c'est vrai!"),
        ("Hello, world. How are you?", "hello, world. how are you?"),
        ("(voir « ici ») : 50 % a/b", "(voir «ici»): 50% a/b"),
        ("vingt-trois l’été", "vingt-trois l’été"),
    ],
)
def test_word_round_trip_detokenisation(text, expected):
    tok = WordTokenizer.build([text])
    assert tok.decode(tok.encode(text, add_bos=True)) == expected


# --- building --------------------------------------------------------------------------------


def test_build_orders_by_frequency_then_token():
    texts = ["b a a", "c a b", "d"]
    assert WordTokenizer.build(texts).vocab == [*SPECIALS, "a", "b", "c", "d"]
    assert WordTokenizer.build(texts, min_freq=2).vocab == [*SPECIALS, "a", "b"]
    assert WordTokenizer.build(texts, max_size=5).vocab == [*SPECIALS, "a"]
    assert WordTokenizer.build(texts, max_size=4).vocab_size == 4
    with pytest.raises(InputError):
        WordTokenizer.build(texts, max_size=3)
    with pytest.raises(InputError):
        WordTokenizer.build(texts, min_freq=0)


def test_constructor_validates():
    with pytest.raises(InputError):
        WordTokenizer(["a", *SPECIALS])
    with pytest.raises(InputError):
        WordTokenizer([*SPECIALS, "a", "a"])
    with pytest.raises(InputError):
        WordTokenizer(SPECIALS, level="byte")


# --- serialisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["word", "char"])
def test_word_dict_json_round_trip(level):
    tok = WordTokenizer.build(["Le chat dort.", "Le chien court !"], level=level, lowercase=False)
    d = json.loads(json.dumps(tok.to_dict()))
    assert d["type"] == "word"
    back = tokenizer_from_dict(d)
    assert isinstance(back, WordTokenizer)
    assert (back.vocab, back.level, back.lowercase) == (tok.vocab, level, False)
    assert back.encode("Le chat court") == tok.encode("Le chat court")


def _bad_dicts() -> list[tuple[str, object]]:
    good = word("a").to_dict()
    out: list[tuple[str, object]] = [("not a dict", ["a"])]
    for key in ("vocab", "level", "specials", "type", "version"):
        out.append((f"missing {key}", {k: v for k, v in good.items() if k != key}))
    out.append(("wrong order", {**good, "vocab": ["<unk>", "<pad>", "<bos>", "<eos>", "a"]}))
    out.append(("wrong specials", {**good, "specials": {"<pad>": 1, "<unk>": 0}}))
    out.append(("vocab not strings", {**good, "vocab": [*SPECIALS, 5]}))
    out.append(("duplicates", {**good, "vocab": [*SPECIALS, "a", "a"]}))
    out.append(("bad level", {**good, "level": "byte"}))
    out.append(("bad lowercase", {**good, "lowercase": "yes"}))
    out.append(("future version", {**good, "version": 99}))
    return out


@pytest.mark.parametrize(("why", "bad"), _bad_dicts(), ids=[w for w, _ in _bad_dicts()])
def test_word_from_dict_rejects(why, bad):
    with pytest.raises(DataError):
        WordTokenizer.from_dict(bad)  # type: ignore[arg-type]


def test_tokenizer_from_dict_unknown_type():
    with pytest.raises(DataError, match="unknown tokenizer type 'bpe'"):
        tokenizer_from_dict({"type": "bpe"})
    with pytest.raises(DataError):
        tokenizer_from_dict("word")  # type: ignore[arg-type]


# --- SentencePiece ---------------------------------------------------------------------------

WORDS = "the cat dog sat ran on under a red blue small big house garden".split()


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    rng = random.Random(0)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) for _ in range(300)]


@pytest.fixture(scope="module")
def spm_tok(corpus) -> SentencePieceTokenizer:
    return SentencePieceTokenizer.train(corpus, vocab_size=32, seed=1)


def test_sentencepiece_specials_and_round_trip(spm_tok):
    assert spm_tok.vocab_size == 32
    assert spm_tok.tokens([0, 1, 2, 3]) == SPECIALS
    text = "The small cat sat under a  red house"
    ids = spm_tok.encode(text, add_bos=True)
    assert ids[0] == 2 and ids[-1] == 3 and 1 not in ids
    assert spm_tok.decode(ids) == "the small cat sat under a red house"
    assert spm_tok.decode(ids + [4, 5]) == spm_tok.decode(ids)  # stops at eos
    assert spm_tok.decode(ids, skip_special=False).startswith("<bos> the small")
    assert "".join(spm_tok.split("a cat")).replace("▁", " ").strip() == "a cat"
    assert spm_tok.encode("the cat sat on a big garden", max_len=4)[-1] == 3
    assert len(spm_tok.encode("the cat sat on a big garden", max_len=4)) == 4


def test_sentencepiece_unknown_char_and_determinism(corpus, spm_tok):
    assert spm_tok.UNK_ID in spm_tok.encode("zebra")
    again = SentencePieceTokenizer.train(corpus, vocab_size=32, seed=1)
    assert again.model_proto == spm_tok.model_proto


def test_sentencepiece_dict_round_trip(spm_tok):
    d = json.loads(json.dumps(spm_tok.to_dict()))
    assert d["type"] == "sentencepiece"
    back = tokenizer_from_dict(d)
    assert isinstance(back, SentencePieceTokenizer)
    text = "the blue dog ran on the garden"
    assert back.encode(text) == spm_tok.encode(text)
    assert back.decode(back.encode(text)) == text


def test_sentencepiece_from_dict_rejects(spm_tok):
    good = spm_tok.to_dict()
    for bad in (
        {**good, "model": "!!not base64!!"},
        {**good, "model": "aGVsbG8="},  # valid base64, not a model
        {k: v for k, v in good.items() if k != "model"},
        {**good, "lowercase": 1},
    ):
        with pytest.raises(DataError):
            SentencePieceTokenizer.from_dict(bad)


def test_sentencepiece_training_errors(corpus):
    with pytest.raises(InputError, match="SentencePiece training failed"):
        SentencePieceTokenizer.train(corpus, vocab_size=5000)
    with pytest.raises(InputError):
        SentencePieceTokenizer.train(["", "  "], vocab_size=10)


def test_sentencepiece_missing_gives_pip_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    with pytest.raises(InputError, match="pip install sentencepiece"):
        SentencePieceTokenizer.train(["a b c"], vocab_size=8)


def test_module_imports_without_numpy_or_tensorflow(monkeypatch):
    for name in ("numpy", "tensorflow", "keras", "sentencepiece"):
        monkeypatch.setitem(sys.modules, name, None)
    path = Path(__file__).resolve().parents[1] / "runtime" / "tokenizer.py"
    spec = importlib.util.spec_from_file_location("_tokenizer_isolated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tok = module.WordTokenizer.build(["a b"])
    assert tok.decode(tok.encode("a b")) == "a b"


ONE_PASS_TEXTS = ["The 3rd of March, 2021", "  spaced   out  ", "l'été\u00a0!", "tab\tand\nnewline",
                  "zero\u200bwidth", "ＦＵＬＬ width", "unknown zzzqx words", "a"]


def _slow_normalize(text: str, lowercase: bool) -> str:
    """The general path of normalize (NFKC + per-character classes), for the ASCII check."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    chars = [" " if ch.isspace() else ch for ch in text
             if ch.isspace() or unicodedata.category(ch) != "Cc"]
    text = " ".join("".join(chars).split())
    return text.lower() if lowercase else text


@pytest.mark.parametrize("text", ["Hello  World!", " a b ", "x,y;z", "MiXeD 12/25/49"])
def test_ascii_fast_path_equals_the_general_normalisation(text):
    for lower in (True, False):
        assert normalize(text, lower) == _slow_normalize(text, lower)


@pytest.mark.parametrize("lowercase", [True, False])
def test_encode_split_is_encode_plus_split(lowercase):
    tok = WordTokenizer.build(ONE_PASS_TEXTS[:4], lowercase=lowercase)
    for text in ONE_PASS_TEXTS:
        for bos, eos in ((False, False), (True, True), (False, True)):
            ids, words = tok.encode_split(text, add_bos=bos, add_eos=eos)
            assert ids == tok.encode(text, add_bos=bos, add_eos=eos)
            assert words == tok.split(text)


def test_sentencepiece_encode_split_is_encode_plus_split():
    from edge_attn.runtime.subword_tokenizer import SentencePieceTokenizer

    sp = SentencePieceTokenizer.train(["hello world", "how are you", "I am fine thanks"] * 20,
                                      vocab_size=23, lowercase=False)
    for text in ONE_PASS_TEXTS + ["How ARE you?"]:
        ids, pieces = sp.encode_split(text, add_bos=True, add_eos=True)
        assert ids == sp.encode(text, add_bos=True, add_eos=True)
        assert pieces == sp.split(text)


def test_ascii_fast_split_equals_the_per_character_split():
    """The one-regex ASCII path of split_words against the per-character category rule, on
    random printable text (spaces, tabs, every punctuation and symbol character)."""
    import random
    import string
    import unicodedata

    from edge_attn.runtime.tokenizer import split_words, split_words_unicode

    assert set(string.punctuation) == {chr(c) for c in range(128)
                                       if unicodedata.category(chr(c))[0] in "PS"}
    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(rng.choice(string.printable + "   ") for _ in range(rng.randint(0, 40)))
        assert split_words(text) == split_words_unicode(text), text
    assert split_words("Who's there? 3.5$") == ["Who", "'", "s", "there", "?", "3", ".", "5",
                                                "$"]


def _vocab_tok(split: str):
    from edge_attn.runtime.vocab_tokenizer import VocabTokenizer

    vocab = ["", "[UNK]", "[start]", "[end]", "the", "cat", "sat", ",", "."]
    return VocabTokenizer(vocab, {"pad": 0, "unk": 1, "bos": 2, "eos": 3}, split=split)


@pytest.mark.parametrize("make", [
    lambda: word("the", "cat", "'", "s", ",", ".", "(", ")", "-", "a"),
    lambda: word("a", "b", "\u2581", ",", level="char"),
    lambda: _vocab_tok("whitespace"),
    lambda: _vocab_tok("character"),
])
def test_decode_tokens_of_looked_up_tokens_is_decode(make):
    """What Translator._finish relies on: the text from the ids' token strings (<pad>/<bos>
    dropped, up to <eos>) is decode()'s text — decode is the reference."""
    tok = make()
    rng = random.Random(0)
    for _ in range(300):
        ids = [rng.randrange(tok.vocab_size) for _ in range(rng.randint(0, 8))]
        assert tok.decode_tokens(ids, tok.tokens(ids)) == tok.decode(ids), ids


def test_sentencepiece_decode_tokens(spm_tok):
    ids = spm_tok.encode("the cat sat", add_eos=False)
    pieces = spm_tok.tokens(ids)
    assert spm_tok.decode_tokens(ids, pieces) == spm_tok.decode(ids) == "the cat sat"
    pieces[0] = "\u2581le"  # a replaced piece: the pieces are joined
    assert spm_tok.decode_tokens(ids, pieces).startswith("le")


def test_detokenize_words_follows_the_spacing_rule():
    """A space between two tokens unless the second is closing punctuation or a joiner or
    the first is opening punctuation or a joiner — checked pair by pair on random tokens."""
    from edge_attn.runtime.tokenizer import detokenize_words

    closing, joiners, opening = set(".,!?;:%)]}»"), set("-'’/"), set("([{«")
    pool = ["le", "chat", "2021", *closing, *joiners, *opening]
    rng = random.Random(3)
    for _ in range(500):
        toks = [rng.choice(pool) for _ in range(rng.randint(0, 8))]
        want = "".join(t if i == 0 or t in closing | joiners or toks[i - 1] in joiners | opening
                       else " " + t for i, t in enumerate(toks))
        assert detokenize_words(toks) == want, toks


def test_ids_outside_the_vocabulary_name_the_first_bad_id():
    tok = word("a", "b")
    assert tok.tokens([4, 5, 2]) == ["a", "b", "<bos>"]
    for bad, first in (([4, 7, -1], 7), ([-2, 9], -2)):
        with pytest.raises(InputError, match=f"token id {first} is outside"):
            tok.tokens(bad)
        with pytest.raises(InputError, match=f"token id {first} is outside"):
            tok.decode(bad)
