"""What every edge-attn tokenizer shares: special tokens and ids, the text normaliser, the
id helpers and the dict header check (standard library only).

:mod:`.tokenizer` (word/char) and :mod:`.subword_tokenizer` (SentencePiece) both build on
this module, so neither imports the other's internals.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from edge_attn.runtime.errors import DataError, InputError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
SPACE_TOKEN = "\u2581"  # "▁", stands for a space at char level
FORMAT_VERSION = 1

_DROPPED = frozenset("\u200b\ufeff")  # zero-width space, BOM / zero-width no-break space


class Tokenizer(Protocol):
    """What the runtime and training need from any tokenizer."""

    PAD_ID: int
    UNK_ID: int
    BOS_ID: int
    EOS_ID: int

    @property
    def vocab_size(self) -> int: ...

    def encode(
        self, text: str, add_bos: bool = False, add_eos: bool = True, max_len: int | None = None
    ) -> list[int]: ...

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str: ...

    def tokens(self, ids: Iterable[int]) -> list[str]: ...

    def decode_tokens(self, ids: Sequence[int], tokens: Sequence[str]) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def normalize(text: str, lowercase: bool = True) -> str:
    """NFKC-normalise, map every Unicode space to " ", drop control chars, collapse spaces.

    Whitespace characters (tab, newline, U+00A0, U+202F, U+2009, ...) become a plain space;
    other control characters (category Cc) and zero-width spaces / BOMs are removed.
    """
    if not isinstance(text, str):
        raise InputError(f"text must be a str, got {type(text).__name__}")
    if text.isascii() and text.isprintable():  # NFKC is the identity; " " the only space
        text = " ".join(text.split())
        return text.lower() if lowercase else text
    text = unicodedata.normalize("NFKC", text)
    chars = []
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            chars.append(" ")
        elif unicodedata.category(ch) != "Cc" and ch not in _DROPPED:
            chars.append(ch)
    text = " ".join("".join(chars).split())
    return text.lower() if lowercase else text


def _finish(ids: list[int], add_bos: bool, add_eos: bool, max_len: int | None) -> list[int]:
    """Add bos/eos and truncate to ``max_len`` keeping eos last (silently; see encode)."""
    if max_len is not None and max_len < max(1, int(add_bos) + int(add_eos)):
        raise InputError(f"max_len={max_len} is too small to hold bos/eos")
    body = [BaseTokenizer.BOS_ID] * add_bos + ids
    if max_len is not None:
        body = body[: max_len - int(add_eos)]
    return body + [BaseTokenizer.EOS_ID] * add_eos


def kept_tokens(ids: Sequence[int], tokens: Sequence[str], eos: int | None,
                dropped: tuple[int | None, ...]) -> list[str]:
    """The token strings ``decode`` joins (``skip_special``): those of ``ids`` up to the
    first ``<eos>``, without the ``dropped`` specials (``<pad>``, ``<bos>``)."""
    out = []
    for i, tok in zip(ids, tokens):
        if i == eos:
            break
        if i not in dropped:
            out.append(tok)
    return out


def _check_ids(ids: Iterable[int], size: int) -> list[int]:
    out = [int(i) for i in ids]
    if out and not (min(out) >= 0 and max(out) < size):
        bad = next(i for i in out if not 0 <= i < size)
        raise InputError(f"token id {bad} is outside the vocabulary (size {size})")
    return out


class BaseTokenizer:
    """Special ids shared by every tokenizer (and by the artifact config)."""

    PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
    SPECIAL_IDS = (PAD_ID, UNK_ID, BOS_ID, EOS_ID)


def _check_header(d: Any, kind: str, keys: Sequence[str]) -> None:
    if not isinstance(d, dict):
        raise DataError(f"tokenizer dict must be a dict, got {type(d).__name__}")
    missing = [k for k in ("type", "version", *keys) if k not in d]
    if missing:
        raise DataError(f"tokenizer dict: missing keys {missing}")
    if d["type"] != kind:
        raise DataError(f"tokenizer dict: type {d['type']!r} is not {kind!r}")
    if d["version"] != FORMAT_VERSION:
        raise DataError(f"tokenizer dict: unsupported version {d['version']!r}")
