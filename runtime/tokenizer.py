"""Pure-Python tokenizers shared by training and the device runtime.

Training tokenizes with these classes and the artifact stores :meth:`to_dict`, so a Raspberry
Pi tokenizes exactly as training did. This module uses the standard library only (no numpy,
no TensorFlow); :class:`SentencePieceTokenizer` imports ``sentencepiece`` lazily.

Special ids are fixed for every tokenizer: ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2,
``<eos>`` = 3.

Word-level detokenisation rule (:meth:`WordTokenizer.decode`): tokens are joined with single
spaces, except that there is no space *before* closing punctuation ``. , ! ? ; : % ) ] } »``,
no space on *either side* of the joiners ``- ' ’ /`` and no space *after* opening brackets
``( [ { «``. So ``["c", "'", "est", "vrai", "!"]`` decodes to ``"c'est vrai!"`` (the French
space before ``!`` is not restored) and ``["2021", "-", "03", "-", "03"]`` to ``"2021-03-03"``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.subword_tokenizer import SentencePieceTokenizer
from edge_attn.runtime.tokenizer_base import (
    BOS,
    EOS,
    FORMAT_VERSION,
    PAD,
    SPACE_TOKEN,
    SPECIALS,
    UNK,
    BaseTokenizer,
    Tokenizer,
    _check_header,
    _check_ids,
    _finish,
    kept_tokens,
    normalize,
)
from edge_attn.runtime.vocab_tokenizer import VocabTokenizer

__all__ = ["BOS", "EOS", "FORMAT_VERSION", "LEVELS", "PAD", "SPACE_TOKEN", "SPECIALS", "UNK",
           "BaseTokenizer", "SentencePieceTokenizer", "Tokenizer", "WordTokenizer",
           "detokenize_words", "normalize", "split_words", "tokenizer_from_dict"]

LEVELS = ("word", "char")

_NO_SPACE_BEFORE = frozenset(".,!?;:%)]}»")
_JOINERS = frozenset("-'’/")
_NO_SPACE_AFTER = frozenset("([{«")
_GLUE_BEFORE = _NO_SPACE_BEFORE | _JOINERS  # no space before these
_GLUE_AFTER = _JOINERS | _NO_SPACE_AFTER  # no space after these


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


# ASCII's punctuation and symbol characters (Unicode categories P* and S*) are exactly
# string.punctuation: these four ranges.
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_ASCII_WORDS = re.compile(f"[{_ASCII_PUNCT}]|[^ {_ASCII_PUNCT}]+")


def split_words(text: str) -> list[str]:
    """Split normalised text on spaces; every punctuation/symbol char is its own token."""
    if text.isascii():  # one regex pass instead of a category lookup per character
        return _ASCII_WORDS.findall(text)
    return split_words_unicode(text)


def split_words_unicode(text: str) -> list[str]:
    """:func:`split_words` for any text, one character at a time."""
    out: list[str] = []
    for chunk in text.split(" "):
        word = []
        for ch in chunk:
            if _is_punct(ch):
                if word:
                    out.append("".join(word))
                    word = []
                out.append(ch)
            else:
                word.append(ch)
        if word:
            out.append("".join(word))
    return out


def detokenize_words(tokens: Sequence[str]) -> str:
    """Join word tokens following the module's detokenisation rule: a space between two
    tokens unless the second is closing punctuation or a joiner, or the first is opening
    punctuation or a joiner."""
    out: list[str] = []
    glue = True  # no space before the first token
    for tok in tokens:
        out.append(tok if glue or tok in _GLUE_BEFORE else " " + tok)
        glue = tok in _GLUE_AFTER
    return "".join(out)


class WordTokenizer(BaseTokenizer):
    """Word- or character-level tokenizer with a frequency-built vocabulary.

    Args:
        vocab: Tokens by id; must start with ``<pad> <unk> <bos> <eos>``.
        level: ``"word"`` (split on spaces and punctuation) or ``"char"`` (every non-space
            character, spaces as ``"▁"``).
        lowercase: Lowercase text during :func:`normalize`.
    """

    def __init__(self, vocab: Sequence[str], level: str = "word", lowercase: bool = True):
        vocab = list(vocab)
        if level not in LEVELS:
            raise InputError(f"unknown tokenizer level {level!r}; choose one of: word, char")
        if tuple(vocab[: len(SPECIALS)]) != SPECIALS:
            raise InputError(f"vocab must start with {list(SPECIALS)}, got {vocab[:4]}")
        if len(set(vocab)) != len(vocab):
            raise InputError("vocab contains duplicate tokens")
        self.level = level
        self.lowercase = bool(lowercase)
        self._vocab = vocab
        self._index = {tok: i for i, tok in enumerate(vocab)}

    def __repr__(self) -> str:
        return f"WordTokenizer(level={self.level!r}, vocab_size={self.vocab_size})"

    @property
    def vocab_size(self) -> int:
        """Number of tokens, specials included."""
        return len(self._vocab)

    @property
    def vocab(self) -> list[str]:
        """A copy of the tokens by id."""
        return list(self._vocab)

    def id_to_token(self, i: int) -> str:
        """The token with id ``i`` (InputError if out of range)."""
        return self._vocab[_check_ids([i], self.vocab_size)[0]]

    def token_to_id(self, tok: str) -> int:
        """The id of ``tok``, or ``UNK_ID`` if it is not in the vocabulary."""
        return self._index.get(tok, self.UNK_ID)

    def normalize(self, text: str) -> str:
        """See the module-level :func:`normalize`."""
        return normalize(text, self.lowercase)

    def split(self, text: str) -> list[str]:
        """Normalise then split ``text`` into string tokens (no specials)."""
        text = self.normalize(text)
        if self.level == "char":
            return [SPACE_TOKEN if ch == " " else ch for ch in text]
        return split_words(text)

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        min_freq: int = 1,
        max_size: int | None = None,
        level: str = "word",
        lowercase: bool = True,
    ) -> WordTokenizer:
        """Build a vocabulary from ``texts``.

        Tokens seen at least ``min_freq`` times are sorted by frequency (descending), then by
        token; ``max_size`` caps the total size, the four specials included.
        """
        if min_freq < 1:
            raise InputError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < len(SPECIALS):
            raise InputError(f"max_size must be >= {len(SPECIALS)}, got {max_size}")
        splitter = cls(SPECIALS, level=level, lowercase=lowercase)
        counts = Counter(tok for text in texts for tok in splitter.split(text))
        kept = sorted(
            (tok for tok, c in counts.items() if c >= min_freq and tok not in SPECIALS),
            key=lambda tok: (-counts[tok], tok),
        )
        if max_size is not None:
            kept = kept[: max_size - len(SPECIALS)]
        return cls([*SPECIALS, *kept], level=level, lowercase=lowercase)

    def encode(
        self, text: str, add_bos: bool = False, add_eos: bool = True, max_len: int | None = None
    ) -> list[int]:
        """Token ids of ``text``; unknown tokens map to ``UNK_ID``.

        With ``max_len`` the result is silently truncated to ``max_len`` ids, ``<eos>`` kept
        last; callers that must warn compare against ``len(encode(text))``.
        """
        ids = [self._index.get(tok, self.UNK_ID) for tok in self.split(text)]
        return _finish(ids, add_bos, add_eos, max_len)

    def encode_split(self, text: str, add_bos: bool = False,
                     add_eos: bool = True) -> tuple[list[int], list[str]]:
        """``(encode(text), split(text))`` from one pass over the text."""
        words = self.split(text)
        ids = [self._index.get(tok, self.UNK_ID) for tok in words]
        return _finish(ids, add_bos, add_eos, None), words

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """The token string of every id (no stopping, no skipping)."""
        return [self._vocab[i] for i in _check_ids(ids, self.vocab_size)]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Text of ``ids``, stopping at the first ``<eos>``.

        ``skip_special`` drops ``<pad>``/``<bos>``/``<eos>``; ``<unk>`` is always shown as
        ``"<unk>"`` so lost words stay visible.
        """
        toks: list[str] = []
        for i in _check_ids(ids, self.vocab_size):
            if i == self.EOS_ID:
                if not skip_special:
                    toks.append(EOS)
                break
            if not (skip_special and i in (self.PAD_ID, self.BOS_ID)):
                toks.append(self._vocab[i])
        return self.join(toks)

    def decode_tokens(self, ids: Sequence[int], tokens: Sequence[str]) -> str:
        """:meth:`decode`'s text of ``ids`` from their token strings ``tokens`` (some may
        be replaced, e.g. ``<unk>`` by a source word), without looking the ids up again."""
        return self.join(kept_tokens(ids, tokens, self.EOS_ID, (self.PAD_ID, self.BOS_ID)))

    def join(self, tokens: Sequence[str]) -> str:
        """The text of token strings, joined as :meth:`decode` joins the ids' tokens."""
        if self.level == "char":
            return "".join(" " if t == SPACE_TOKEN else t for t in tokens)
        return detokenize_words(tokens)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable description (``"type": "word"``)."""
        return {
            "type": "word",
            "version": FORMAT_VERSION,
            "level": self.level,
            "lowercase": self.lowercase,
            "specials": dict(zip(SPECIALS, self.SPECIAL_IDS, strict=True)),
            "vocab": list(self._vocab),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WordTokenizer:
        """Inverse of :meth:`to_dict`; DataError on any inconsistency."""
        _check_header(d, "word", ("level", "lowercase", "specials", "vocab"))
        vocab, level, lower = d["vocab"], d["level"], d["lowercase"]
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise DataError("tokenizer dict: 'vocab' must be a list of strings")
        if d["specials"] != dict(zip(SPECIALS, cls.SPECIAL_IDS, strict=True)):
            raise DataError(f"tokenizer dict: unexpected special ids {d['specials']!r}")
        if level not in LEVELS or not isinstance(lower, bool):
            raise DataError(f"tokenizer dict: bad level {level!r} or lowercase {lower!r}")
        try:
            return cls(vocab, level=level, lowercase=lower)
        except InputError as e:
            raise DataError(f"tokenizer dict: {e}") from None


TOKENIZER_TYPES = {"word": WordTokenizer, "sentencepiece": SentencePieceTokenizer,
                   "vocab": VocabTokenizer}


def tokenizer_from_dict(d: dict[str, Any]
                        ) -> WordTokenizer | SentencePieceTokenizer | VocabTokenizer:
    """Rebuild any tokenizer from its :meth:`to_dict` form, dispatching on ``"type"``."""
    if not isinstance(d, dict):
        raise DataError(f"tokenizer dict must be a dict, got {type(d).__name__}")
    kind = d.get("type")
    if not isinstance(kind, str) or kind not in TOKENIZER_TYPES:
        raise DataError(
            f"unknown tokenizer type {kind!r}; expected one of: {', '.join(TOKENIZER_TYPES)}"
        )
    return TOKENIZER_TYPES[kind].from_dict(d)
