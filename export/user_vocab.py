"""Vocabularies of user models → the runtime's :class:`VocabTokenizer`, ids unchanged.

Two sources:

- a Keras ``TextVectorization`` layer (in the model or passed separately): its
  ``get_vocabulary()``, ``standardize`` and ``split`` (a custom standardize or split
  callable cannot run on the device and is refused); pad = ``''`` (id 0), unk = ``'[UNK]'``;
- a file with one token per line (line n = id n), specials named by ``--specials``
  (``pad=,unk=[UNK],bos=[start],eos=[end]``: ``pad=`` names the empty token).

Every special must be in the vocabulary; the vocabulary must have exactly as many tokens as
the model's embedding has rows (source) or its output has classes (target).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.vocab_tokenizer import SPECIAL_NAMES, STANDARDIZE, VocabTokenizer

KERAS_PAD, KERAS_UNK = "", "[UNK]"


def parse_specials(text: str | None) -> dict[str, str]:
    """``"pad=,unk=[UNK],bos=[start],eos=[end]"`` → ``{"pad": "", "unk": "[UNK]", ...}``.

    Raises:
        InputError: A part without ``=``, an unknown name, a name given twice.
    """
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, eq, token = part.partition("=")
        name = name.strip()
        if not eq or name not in SPECIAL_NAMES or name in out:
            raise InputError(f"bad --specials part {part!r}: expected NAME=TOKEN with NAME one "
                             f"of {', '.join(SPECIAL_NAMES)}, each once")
        out[name] = token.strip()
    return out


def _resolve(vocab: list[str], specials: dict[str, str], origin: str,
             optional: Sequence[str] = ()) -> dict[str, int | None]:
    """Special name → id; InputError for a named token missing from the vocabulary (unless
    its name is ``optional``: then None)."""
    index = {tok: i for i, tok in enumerate(vocab)}
    specials = {k: v for k, v in specials.items() if v in index or k not in optional}
    missing = {k: v for k, v in specials.items() if v not in index}
    if missing:
        shown = ", ".join(f"{k}={v!r}" for k, v in missing.items())
        raise InputError(f"{origin}: special tokens not in the vocabulary: {shown}")
    return {k: (index[specials[k]] if k in specials else None) for k in SPECIAL_NAMES}


def read_vocab_file(path: str | Path, specials: dict[str, str] | None = None,
                    standardize: str | None = "lower_and_strip_punctuation",
                    split: str = "whitespace", optional: Sequence[str] = ()) -> VocabTokenizer:
    """A tokenizer from a one-token-per-line file (UTF-8; line n is id n).

    Args:
        path: The file.
        specials: Named special tokens (default ``pad=''``, ``unk='[UNK]'`` as Keras).
        standardize, split: Text processing, as ``TextVectorization``'s.
        optional: Special names that may be absent (a source vocabulary needs no bos/eos).

    Raises:
        DataError: Missing/unreadable file. InputError: specials not in it.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: vocabulary file not found")
    try:
        vocab = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read vocabulary ({exc})") from None
    if vocab and vocab[-1] == "":  # the final newline
        vocab = vocab[:-1]
    named = {"pad": KERAS_PAD, "unk": KERAS_UNK, **(specials or {})}
    return VocabTokenizer(vocab, _resolve(vocab, named, str(path), optional), standardize,
                          split)


def from_text_vectorization(layer: Any, specials: dict[str, str] | None = None,
                            optional: Sequence[str] = ()) -> VocabTokenizer:
    """A tokenizer reproducing a ``TextVectorization`` layer (output_mode ``int``).

    Raises:
        InputError: A custom standardize/split callable, n-grams, another output mode.
    """
    cfg = layer.get_config()
    name = getattr(layer, "name", "TextVectorization")
    standardize, split = getattr(layer, "_standardize", cfg.get("standardize")), \
        getattr(layer, "_split", cfg.get("split"))
    if callable(standardize) or standardize not in STANDARDIZE:
        shown = getattr(standardize, "__name__", standardize)
        raise InputError(f"{name}: a custom standardize ({shown}) cannot "
                         "run on the device; retrain with a built-in standardize, or "
                         "export the vocabulary with --vocab FILE and standardize texts "
                         "yourself before calling the runtime")
    if callable(split) or split not in ("whitespace", "character"):
        raise InputError(f"{name}: split {split!r} is not supported (whitespace, character)")
    if cfg.get("ngrams") or cfg.get("output_mode", "int") != "int":
        raise InputError(f"{name}: only output_mode='int' without ngrams is supported")
    vocab = [str(t) for t in layer.get_vocabulary()]
    named = {"pad": KERAS_PAD, "unk": KERAS_UNK, **(specials or {})}
    return VocabTokenizer(vocab, _resolve(vocab, named, name, optional), standardize, split)


def check_size(tokenizer: Any, size: int, what: str) -> None:
    """InputError unless the vocabulary has exactly ``size`` tokens (embedding rows /
    output classes of the model)."""
    if tokenizer.vocab_size != size:
        raise InputError(f"{what} vocabulary has {tokenizer.vocab_size} tokens but the "
                         f"model's {what} {'embedding' if what == 'source' else 'output'} "
                         f"has {size}")
