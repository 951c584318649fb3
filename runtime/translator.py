"""Step-wise encoder–decoder translation with a LiteRT interpreter (no TensorFlow).

:class:`Translator` runs the artifact's ``encode`` signature once per batch of sentences and
``decode_step`` once per output token (greedy) or per token for all beams at once (beam
search, see :mod:`edge_attn.runtime.beam`).

Source handling: every sentence is tokenized like training did and right-padded with
``<pad>`` (id 0) to the encoder's fixed length S (``config.seq2seq.max_source_len``). A sentence
longer than S is **truncated** to its first S tokens (``<eos>`` kept last) and a
:class:`~edge_attn.runtime.model.TruncationWarning` names the original and kept lengths.
Empty text, or text that tokenizes to nothing, is an
:class:`~edge_attn.runtime.errors.InputError`.

Decode-time attention (Luong et al. 2015 decoder: the RNN state is updated from the previous
token first, attention reads the new state, so the mask changes only the log probabilities
and the attention, never the state):

* ``soft`` — the model's attention over every real source token;
* ``hard`` — run the step, take the argmax of its attention, run it again with a one-hot mask
  at that position (context = that single memory vector); log probs come from the second run;
* ``monotonic`` — forced-forward attention: source positions before the previous step's
  argmax are masked out, so the argmax position never decreases.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import constants as C
from .beam import Hypothesis
from .constants import ATTENTION_MODES
from .decoder import Decoder
from .errors import InputError
from .model import LoadedModel, encode_source
from .shortlist import Shortlist

__all__ = ["ATTENTION_MODES", "DEFAULT_LENGTH_PENALTY", "Translation", "Translator"]

DEFAULT_LENGTH_PENALTY = 0.6


@dataclass
class Translation:
    """One translated sentence.

    Attributes:
        text: Detokenized output.
        tokens: Output token strings (``<eos>`` excluded; with ``replace_unk`` the replaced
            ``<unk>`` tokens are the copied source words).
        ids: Output token ids (``<eos>`` excluded).
        score: Sum of the step log probabilities (``<eos>`` step included).
        normalized_score: ``score`` divided by the GNMT length penalty.
        attention: f32[T_out, S_src] — one row per output token over the *real* source tokens
            (padding columns dropped); soft rows sum to 1, hard rows are one-hot.
        source_tokens: The S_src source tokens the columns refer to (after truncation).
        finished: False if decoding stopped at ``max_len`` before ``<eos>``.
    """

    text: str
    tokens: list[str]
    ids: list[int]
    score: float
    normalized_score: float
    attention: np.ndarray
    source_tokens: list[str]
    finished: bool = True
    source: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (attention as nested lists)."""
        return {"source": self.source, "text": self.text, "tokens": self.tokens,
                "ids": self.ids, "score": self.score,
                "normalized_score": self.normalized_score, "finished": self.finished,
                "source_tokens": self.source_tokens,
                "attention": np.round(self.attention.astype(float), 6).tolist()}


class Translator(LoadedModel):
    """Translate with a seq2seq artifact: greedy, beam search, streaming, attention.

    Thread-safe: every interpreter call is one locked, stateless signature call, so one
    Translator may be shared by threads and gives each the same results.

    Args:
        artifact: Artifact path, bytes or :class:`~edge_attn.runtime.artifact.Artifact`.
        num_threads: Interpreter CPU threads.
        backend: ``auto`` | ``ai-edge-litert`` | ``tflite-runtime``.

    Attributes:
        decoder: The :class:`~edge_attn.runtime.decoder.Decoder` (feeds, mask, state carry,
            greedy / beam / the lean single-sentence loop).

    Raises:
        ArtifactError: Unreadable artifact or config/model mismatch.
        InputError: The artifact is not a seq2seq model.
        BackendError: No interpreter backend.
    """

    KINDS = (C.SEQ2SEQ,)

    def _check_contract(self) -> None:
        s2s = self.config.seq2seq
        self.decoder = Decoder(self.session, s2s, self.origin)
        self.source_len, self.max_target_len = s2s.max_source_len, s2s.max_target_len
        self.states = self.decoder.states
        self.source_tokenizer = self._tokenizer(C.SOURCE)
        self.target_tokenizer = self._tokenizer(C.TARGET)
        if self.decoder.vocab_size != self.target_tokenizer.vocab_size:
            raise self._fail(f"log_probs width {self.decoder.vocab_size} != target vocabulary "
                             f"size {self.target_tokenizer.vocab_size}")
        self.add_bos, self.add_eos = s2s.source.add_bos, s2s.source.add_eos
        self.shortlist = self._load_shortlist()

    def _load_shortlist(self) -> Shortlist | None:
        """The artifact's shortlist, checked against the vocabularies and signatures."""
        declared = self.config.seq2seq.shortlist
        if declared is None:
            return None
        if not self.decoder.has_shortlist_step:
            raise self._fail(f"config declares a shortlist but the model has no "
                             f"{C.DECODE_STEP_SHORTLIST!r} signature")
        if declared.source_vocab != self.source_tokenizer.vocab_size:
            raise self._fail(f"shortlist covers {declared.source_vocab} source ids, the source "
                             f"vocabulary has {self.source_tokenizer.vocab_size}")
        shortlist = Shortlist.from_bytes(self.artifact.shortlist or b"", declared.n_always,
                                         declared.source_vocab, declared.per_source,
                                         self.decoder.vocab_size)
        head = self.decoder.shortlist_head(shortlist)
        found = None if head is None else len(head)
        if declared.head != found:
            raise self._fail(f"config declares a shortlist head of {declared.head} columns, "
                             f"{C.DECODE_STEP_SHORTLIST!r} and shortlist.bin give {found}")
        return shortlist

    @property
    def has_shortlist(self) -> bool:
        """Whether the artifact carries a vocabulary shortlist (used by default)."""
        return self.shortlist is not None

    def shortlist_info(self) -> dict[str, Any] | None:
        """Shortlist sizes and the hit rate measured at export (``None`` without one)."""
        declared = self.config.seq2seq.shortlist
        if declared is None:
            return None
        return {**declared.to_dict(), "target_vocab": self.decoder.vocab_size}

    # -- public API ------------------------------------------------------------------------

    def translate(self, texts: str | Sequence[str], beam: int = 1, max_len: int | None = None,
                  length_penalty: float = DEFAULT_LENGTH_PENALTY, attention_mode: str = "soft",
                  replace_unk: bool = False, batch_size: int = 32,
                  min_len: int = 0, shortlist: bool | None = None) -> list[Translation]:
        """Translate one text or a list of texts.

        Args:
            texts: A sentence or a list of sentences.
            beam: Beam width (1 = greedy).
            max_len: Maximum output tokens (default ``config.seq2seq.max_target_len``).
            length_penalty: GNMT alpha for ranking beams (0 = raw log probability).
            attention_mode: ``soft``, ``hard`` or ``monotonic`` (module docstring).
            replace_unk: Replace each produced ``<unk>`` by the source token it attends most.
            batch_size: Sentences encoded and decoded together.
            min_len: Output steps before which ``<eos>`` may not be chosen (0 = none).
            shortlist: Score only each sentence's vocabulary shortlist (``None``: when the
                artifact has one; ``True`` without one is an error).

        Returns:
            One :class:`Translation` per text, in order.

        Raises:
            InputError: Empty text, text that tokenizes to nothing, or a bad option.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        beam, max_len = self._check_options(beam, max_len, length_penalty, attention_mode)
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        if not isinstance(min_len, int) or not 0 <= min_len <= max_len:
            raise InputError(f"min_len must be an integer in [0, max_len={max_len}], "
                             f"got {min_len!r}")
        sl = self._use_shortlist(shortlist)
        sources = [encode_source(self.source_tokenizer, t, self.source_len, self.add_bos,
                                 self.add_eos, "source text") for t in items]
        out: list[Translation] = []
        for start in range(0, len(items), batch_size):
            chunk = sources[start:start + batch_size]
            hyps = self.decoder.decode([ids for ids, _ in chunk], beam, max_len,
                                       length_penalty, attention_mode, min_len, shortlist=sl)
            for text, (_, shown), hyp in zip(items[start:], chunk, hyps):
                out.append(self._finish(text, shown, hyp, replace_unk))
        return out

    def stream(self, text: str, max_len: int | None = None, attention_mode: str = "soft",
               replace_unk: bool = False) -> Iterator[str]:
        """Greedy-translate ``text``, yielding each output token string as it is decoded.

        Yields the same tokens as ``translate(text)[0].tokens`` (``<eos>`` not yielded).
        """
        _, max_len = self._check_options(1, max_len, 0.0, attention_mode)
        ids, shown = encode_source(self.source_tokenizer, text, self.source_len, self.add_bos,
                                   self.add_eos, "source text")
        for tok, att in self.decoder.iter_tokens(ids, max_len, attention_mode):
            word = self.target_tokenizer.tokens([tok])[0]
            if replace_unk and tok == self.target_tokenizer.UNK_ID:
                word = _copy_source(word, shown, att, self.add_bos, self.add_eos)
            yield word

    # -- internals -------------------------------------------------------------------------

    def _use_shortlist(self, wanted: bool | None) -> Shortlist | None:
        if wanted is None:
            return self.shortlist
        if wanted and self.shortlist is None:
            raise InputError(f"{self.origin} has no vocabulary shortlist; export it with "
                             "--shortlist-data, or decode without --shortlist")
        return self.shortlist if wanted else None

    def _check_options(self, beam: int, max_len: int | None, alpha: float,
                       mode: str) -> tuple[int, int]:
        if not isinstance(beam, int) or not 1 <= beam <= C.MAX_BEAM:
            raise InputError(f"beam must be an integer in [1, {C.MAX_BEAM}], got {beam!r}")
        max_len = self.max_target_len if max_len is None else max_len
        if not isinstance(max_len, int) or not 1 <= max_len <= C.MAX_DECODE_LEN:
            raise InputError(f"max_len must be an integer in [1, {C.MAX_DECODE_LEN}], "
                             f"got {max_len!r}")
        if alpha < 0:
            raise InputError(f"length_penalty must be >= 0, got {alpha}")
        if mode not in ATTENTION_MODES:
            raise InputError(f"unknown attention mode {mode!r}; choose one of: "
                             f"{', '.join(ATTENTION_MODES)}")
        return beam, max_len

    def _finish(self, text: str, shown: list[str], hyp: Hypothesis,
                replace_unk: bool) -> Translation:
        tok = self.target_tokenizer
        words = tok.tokens(hyp.ids)
        if replace_unk:
            for i, tid in enumerate(hyp.ids):
                if tid == tok.UNK_ID:
                    words[i] = _copy_source(words[i], shown, hyp.attention[i], self.add_bos,
                                            self.add_eos)
        return Translation(tok.decode_tokens(hyp.ids, words), words, list(hyp.ids), hyp.score,
                           hyp.normalized_score, hyp.attention, list(shown), hyp.finished, text)


def _copy_source(word: str, shown: list[str], att: np.ndarray, bos: bool, eos: bool) -> str:
    """The source token with the highest attention, unless it is ``<bos>``/``<eos>``."""
    j = int(np.argmax(att[: len(shown)]))
    if (bos and j == 0) or (eos and j == len(shown) - 1):
        return word
    return shown[j]
