"""SentencePiece subword tokenizer (the real ``sentencepiece`` library, imported lazily).

Same interface and JSON form as :class:`~edge_attn.runtime.tokenizer.WordTokenizer`; the
trained model proto is stored base64-encoded in the dict (no pickle).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Sequence
from typing import Any

from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.tokenizer_base import (
    BOS,
    EOS,
    FORMAT_VERSION,
    PAD,
    SPACE_TOKEN,
    SPECIALS,
    UNK,
    BaseTokenizer,
    _check_header,
    _check_ids,
    _finish,
    kept_tokens,
    normalize,
)


def _sentencepiece() -> Any:
    try:
        import sentencepiece
    except ImportError:
        raise InputError(
            "SentencePiece tokenizers need the sentencepiece package: "
            "pip install 'edge-attn[subword]' (or pip install sentencepiece)"
        ) from None
    return sentencepiece


class SentencePieceTokenizer(BaseTokenizer):
    """Subword tokenizer wrapping a trained ``sentencepiece`` model.

    Text goes through the same :func:`normalize` as :class:`WordTokenizer`; the model itself
    is trained with the ``identity`` normalisation rule so there is one normaliser, ours.

    Args:
        model_proto: Serialised SentencePiece model (ids 0..3 must be pad/unk/bos/eos).
        lowercase: Lowercase text during :func:`normalize`.
    """

    def __init__(self, model_proto: bytes, lowercase: bool = True):
        spm = _sentencepiece()
        try:
            self._sp = spm.SentencePieceProcessor(model_proto=bytes(model_proto))
        except (RuntimeError, TypeError, OSError) as e:
            raise DataError(f"invalid SentencePiece model: {e}") from None
        got = (self._sp.pad_id(), self._sp.unk_id(), self._sp.bos_id(), self._sp.eos_id())
        if got != self.SPECIAL_IDS:
            raise DataError(f"SentencePiece model has pad/unk/bos/eos ids {got}, need 0/1/2/3")
        self.model_proto = bytes(model_proto)
        self.lowercase = bool(lowercase)

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(vocab_size={self.vocab_size})"

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        seed: int = 0,
        model_type: str = "unigram",
        lowercase: bool = True,
        character_coverage: float = 1.0,
    ) -> SentencePieceTokenizer:
        """Train in memory (single thread, seeded) on normalised ``texts``."""
        spm = _sentencepiece()
        sentences = [s for s in (normalize(t, lowercase) for t in texts) if s]
        if not sentences:
            raise InputError("cannot train a SentencePiece model on no text")
        writer = io.BytesIO()
        spm.set_random_generator_seed(int(seed))
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences), model_writer=writer,
                vocab_size=int(vocab_size), model_type=model_type,
                character_coverage=character_coverage, normalization_rule_name="identity",
                pad_id=0, unk_id=1, bos_id=2, eos_id=3, pad_piece=PAD, unk_piece=UNK,
                bos_piece=BOS, eos_piece=EOS, unk_surface=UNK, num_threads=1, minloglevel=2,
            )  # fmt: skip
        except RuntimeError as e:
            raise InputError(f"SentencePiece training failed: {e}") from None
        return cls(writer.getvalue(), lowercase=lowercase)

    @property
    def vocab_size(self) -> int:
        """Number of pieces, specials included."""
        return int(self._sp.get_piece_size())

    def id_to_token(self, i: int) -> str:
        """The piece with id ``i`` (InputError if out of range)."""
        return self._sp.id_to_piece(_check_ids([i], self.vocab_size)[0])

    def token_to_id(self, tok: str) -> int:
        """The id of piece ``tok`` (``UNK_ID`` if unknown)."""
        return int(self._sp.piece_to_id(tok))

    def split(self, text: str) -> list[str]:
        """Normalise then split ``text`` into pieces."""
        return list(self._sp.encode(normalize(text, self.lowercase), out_type=str))

    def encode(
        self, text: str, add_bos: bool = False, add_eos: bool = True, max_len: int | None = None
    ) -> list[int]:
        """Piece ids of ``text``; truncation as in :meth:`WordTokenizer.encode`."""
        ids = [int(i) for i in self._sp.encode(normalize(text, self.lowercase))]
        return _finish(ids, add_bos, add_eos, max_len)

    def encode_split(self, text: str, add_bos: bool = False,
                     add_eos: bool = True) -> tuple[list[int], list[str]]:
        """``(encode(text), split(text))`` from one pass over the text."""
        pieces = self._sp.encode(normalize(text, self.lowercase), out_type=str)
        ids = [int(i) for i in self._sp.piece_to_id(pieces)]
        return _finish(ids, add_bos, add_eos, None), pieces

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """The piece string of every id."""
        return [self._sp.id_to_piece(i) for i in _check_ids(ids, self.vocab_size)]

    def decode_tokens(self, ids: Sequence[int], tokens: Sequence[str]) -> str:
        """:meth:`decode`'s text of ``ids`` when ``tokens`` are their pieces; when some are
        replaced (e.g. ``<unk>`` by a source word), the kept pieces joined with their
        word-boundary marks as spaces (pieces do not always join to ``decode``'s text)."""
        if list(tokens) == self.tokens(ids):
            return self.decode(ids)
        kept = kept_tokens(ids, tokens, self.EOS_ID, (self.PAD_ID, self.BOS_ID))
        return "".join(kept).replace(SPACE_TOKEN, " ").strip()

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Text of ``ids``, stopping at the first ``<eos>``; specials as in WordTokenizer."""
        parts: list[str] = []
        run: list[int] = []
        for i in _check_ids(ids, self.vocab_size):
            if i in self.SPECIAL_IDS and i != self.UNK_ID:
                if not skip_special:
                    parts += [self._sp.decode(run), SPECIALS[i]]
                    run = []
                if i == self.EOS_ID:
                    break
            else:
                run.append(i)
        parts.append(self._sp.decode(run))
        return " ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable description; the model proto is base64 text."""
        return {
            "type": "sentencepiece",
            "version": FORMAT_VERSION,
            "lowercase": self.lowercase,
            "model": base64.b64encode(self.model_proto).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SentencePieceTokenizer:
        """Inverse of :meth:`to_dict`; DataError on any inconsistency."""
        _check_header(d, "sentencepiece", ("lowercase", "model"))
        if not isinstance(d["lowercase"], bool) or not isinstance(d["model"], str):
            raise DataError("tokenizer dict: 'lowercase' must be bool and 'model' a str")
        try:
            proto = base64.b64decode(d["model"], validate=True)
        except (binascii.Error, ValueError) as e:
            raise DataError(f"tokenizer dict: 'model' is not valid base64: {e}") from None
        return cls(proto, lowercase=d["lowercase"])


