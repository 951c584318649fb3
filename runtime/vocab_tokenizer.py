"""A tokenizer over a user model's own vocabulary: its ids, its special tokens, its rules.

Models trained outside edge-attn number their tokens themselves — a Keras
``TextVectorization`` vocabulary starts ``['', '[UNK]', ...]`` with ``[start]`` / ``[end]``
wherever their frequency put them — so this tokenizer keeps the vocabulary as given and reads
the special ids from it (``pad``, ``unk``, and for decoders ``bos`` / ``eos``).

Text processing reproduces ``TextVectorization`` (Keras 3):

- standardize ``lower_and_strip_punctuation`` / ``lower`` / ``strip_punctuation`` / ``None``:
  lowercase (``str.lower``), then delete every character of
  ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``;
- split ``whitespace`` (runs of whitespace, ends stripped: ``str.split()``) or ``character``
  (every code point, spaces included).

Decoding joins tokens with one space (whitespace split) or nothing (character split).
Standard library only (runs on the device).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.tokenizer_base import kept_tokens

TYPE = "vocab"
VERSION = 1
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
SPLITS = ("whitespace", "character")
PUNCTUATION = frozenset("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'")
SPECIAL_NAMES = ("pad", "unk", "bos", "eos")


def _check_specials(vocab: Sequence[str], specials: dict[str, int | None]) -> None:
    unknown = set(specials) - set(SPECIAL_NAMES)
    if unknown:
        raise InputError(f"unknown special token names {sorted(unknown)}; use "
                         f"{', '.join(SPECIAL_NAMES)}")
    for name in ("pad", "unk"):
        if specials.get(name) is None:
            raise InputError(f"the vocabulary needs a {name} token")
    ids = [i for i in specials.values() if i is not None]
    if any(not isinstance(i, int) or not 0 <= i < len(vocab) for i in ids):
        raise InputError(f"special ids {specials} must lie in [0, {len(vocab)})")
    if len(set(ids)) != len(ids):
        raise InputError(f"special ids must be distinct, got {specials}")


class VocabTokenizer:
    """Tokenize with a fixed vocabulary (ids = positions) and named special ids.

    Args:
        vocab: Tokens by id, exactly as the model's embedding / output layer numbers them.
        specials: ``{"pad": id, "unk": id, "bos": id or None, "eos": id or None}``.
        standardize: One of :data:`STANDARDIZE`.
        split: ``"whitespace"`` or ``"character"``.

    Raises:
        InputError: Duplicate tokens, special ids outside the vocabulary, unknown settings.
    """

    def __init__(self, vocab: Sequence[str], specials: dict[str, int | None],
                 standardize: str | None = "lower_and_strip_punctuation",
                 split: str = "whitespace") -> None:
        vocab = list(vocab)
        if standardize not in STANDARDIZE:
            raise InputError(f"unknown standardize {standardize!r}; choose one of "
                             f"{', '.join(str(s) for s in STANDARDIZE)}")
        if split not in SPLITS:
            raise InputError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if len(set(vocab)) != len(vocab):
            raise InputError("vocabulary contains duplicate tokens")
        _check_specials(vocab, specials)
        self._vocab, self.standardize, self.split_mode = vocab, standardize, split
        self._index = {tok: i for i, tok in enumerate(vocab)}
        self.specials = {k: specials.get(k) for k in SPECIAL_NAMES}
        self.PAD_ID, self.UNK_ID = self.specials["pad"], self.specials["unk"]
        self.BOS_ID, self.EOS_ID = self.specials["bos"], self.specials["eos"]

    def __repr__(self) -> str:
        return f"VocabTokenizer(vocab_size={self.vocab_size}, split={self.split_mode!r})"

    @property
    def vocab_size(self) -> int:
        """Number of tokens, specials included."""
        return len(self._vocab)

    @property
    def vocab(self) -> list[str]:
        """A copy of the tokens by id."""
        return list(self._vocab)

    def normalize(self, text: str) -> str:
        """``text`` after the standardize step."""
        if not isinstance(text, str):
            raise InputError(f"text must be a str, got {type(text).__name__}")
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.lower()
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = "".join(ch for ch in text if ch not in PUNCTUATION)
        return text

    def split(self, text: str) -> list[str]:
        """Standardize, then split into string tokens."""
        text = self.normalize(text)
        return text.split() if self.split_mode == "whitespace" else list(text)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = True,
               max_len: int | None = None) -> list[int]:
        """Ids of ``text`` (unknown tokens → unk), optional bos/eos, truncated to
        ``max_len`` with eos kept last."""
        for flag, name in ((add_bos, "bos"), (add_eos, "eos")):
            if flag and self.specials[name] is None:
                raise InputError(f"this vocabulary has no {name} token")
        ids = [self._index.get(tok, self.UNK_ID) for tok in self.split(text)]
        body = ([self.BOS_ID] if add_bos else []) + ids
        if max_len is not None:
            if max_len < int(add_bos) + int(add_eos):
                raise InputError(f"max_len={max_len} is too small to hold bos/eos")
            body = body[: max_len - int(add_eos)]
        return body + ([self.EOS_ID] if add_eos else [])

    def _checked(self, ids: Iterable[int]) -> list[int]:
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise InputError(f"token id {i} is outside the vocabulary "
                                 f"(size {self.vocab_size})")
            out.append(i)
        return out

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """The token string of every id."""
        return [self._vocab[i] for i in self._checked(ids)]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Text of ``ids``, stopping at the first eos; pad/bos dropped when skipping."""
        toks = []
        for i in self._checked(ids):
            if i == self.EOS_ID:
                if not skip_special:
                    toks.append(self._vocab[i])
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
        return (" " if self.split_mode == "whitespace" else "").join(tokens)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``"type": "vocab"``)."""
        return {"type": TYPE, "version": VERSION, "vocab": list(self._vocab),
                "specials": dict(self.specials), "standardize": self.standardize,
                "split": self.split_mode}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VocabTokenizer:
        """Inverse of :meth:`to_dict`; DataError on any inconsistency."""
        if not isinstance(d, dict) or d.get("type") != TYPE or d.get("version") != VERSION:
            raise DataError(f"tokenizer dict: not a {TYPE} tokenizer of version {VERSION}")
        vocab, specials = d.get("vocab"), d.get("specials")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise DataError("tokenizer dict: 'vocab' must be a list of strings")
        if not isinstance(specials, dict):
            raise DataError("tokenizer dict: 'specials' must be an object")
        try:
            return cls(vocab, specials, d.get("standardize"), d.get("split", "whitespace"))
        except InputError as e:
            raise DataError(f"tokenizer dict: {e}") from None
