"""Step-wise encoder–decoder translation with a LiteRT interpreter (no TensorFlow).

:class:`Translator` runs the artifact's ``encode`` signature once per batch of sentences and
``decode_step`` once per output token (greedy) or per token for all beams at once (beam
search, see :mod:`edge_attn.runtime.beam`).

Source handling: every sentence is tokenized like training did and right-padded with
``<pad>`` (id 0) to the encoder's fixed length S = ``config["max_source_len"]``. A sentence
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
from .beam import Hypothesis, State, beam_search, greedy_search, iter_greedy
from .errors import InputError
from .fast_greedy import greedy_bound
from .model import LoadedModel, encode_source
from .session import Session, state_names

ATTENTION_MODES = ("soft", "hard", "monotonic")
DEFAULT_LENGTH_PENALTY = 0.6
_POS = "__position"  # per-row bookkeeping of the monotonic mode (not a model tensor)


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


class _Stepper:
    """The step function of :mod:`~edge_attn.runtime.beam` over ``decode_step``.

    Holds the static decoder inputs (memory f32[B,S,H], keys f32[B,S,K], mask f32[B,S]);
    the state dict holds the decoder state tensors (f32[B,H] each) and, in monotonic mode,
    the previous attention argmax int[B].
    """

    def __init__(self, session: Session, states: list[str], memory: np.ndarray,
                 keys: np.ndarray, mask: np.ndarray, mode: str) -> None:
        self.session, self.states, self.mode = session, states, mode
        self.memory, self.keys, self.mask = memory, keys, mask
        self.positions = np.arange(mask.shape[1])[None, :]

    def initial(self, encoded: dict[str, np.ndarray]) -> State:
        state = {name: encoded[name] for name in self.states}
        if self.mode == "monotonic":
            state[_POS] = np.zeros(self.mask.shape[0], np.int64)
        return state

    def _run(self, tokens: np.ndarray, state: State, mask: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {C.DEC_TOKEN: tokens, C.DEC_MEMORY: self.memory, C.DEC_KEYS: self.keys,
                 C.DEC_MASK: mask}
        feeds.update((name, state[name]) for name in self.states)
        return self.session.run(C.DECODE_STEP, feeds)

    def __call__(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State, np.ndarray]:
        mask = self.mask
        if self.mode == "monotonic":
            mask = mask * (self.positions >= state[_POS][:, None]).astype(np.float32)
        out = self._run(tokens, state, mask)
        log_probs, att = out[C.DEC_LOG_PROBS], out[C.DEC_ATTENTION]
        new = {name: out[name] for name in self.states}
        if self.mode == "hard":
            onehot = np.zeros_like(mask)
            onehot[np.arange(len(att)), np.argmax(att * mask, axis=-1)] = 1.0
            log_probs, att = self._run(tokens, state, onehot)[C.DEC_LOG_PROBS], onehot
        elif self.mode == "monotonic":
            new[_POS] = np.argmax(att * mask, axis=-1)
        return log_probs, new, att


def _no_eos_before(step: _Stepper, eos: int, min_len: int) -> Any:
    """``step`` with ``<eos>`` forbidden on its first ``min_len`` calls (one call = one step
    for every row and beam)."""
    calls = 0

    def wrapped(tokens: np.ndarray, state: State) -> tuple[np.ndarray, State, np.ndarray]:
        nonlocal calls
        log_probs, state, att = step(tokens, state)
        if calls < min_len:
            log_probs[:, eos] = -np.inf
        calls += 1
        return log_probs, state, att

    return wrapped


class Translator(LoadedModel):
    """Translate with a seq2seq artifact: greedy, beam search, streaming, attention.

    Thread-safe: every interpreter call is one locked, stateless signature call, so one
    Translator may be shared by threads and gives each the same results.

    Args:
        artifact: Artifact path, bytes or :class:`~edge_attn.runtime.artifact.Artifact`.
        num_threads: Interpreter CPU threads.
        backend: ``auto`` | ``ai-edge-litert`` | ``tflite-runtime``.

    Raises:
        ArtifactError: Unreadable artifact or config/model mismatch.
        InputError: The artifact is not a seq2seq model.
        BackendError: No interpreter backend.
    """

    KINDS = (C.SEQ2SEQ,)

    def _check_contract(self) -> None:
        self.source_len = self._positive_int("max_source_len")
        self.max_target_len = self._positive_int("max_target_len")
        self.states = state_names(self.config)
        enc = self._signature(C.ENCODE, [C.ENC_TOKENS, C.ENC_MASK],
                              [C.ENC_MEMORY, C.ENC_KEYS, *self.states])
        dec = self._signature(C.DECODE_STEP,
                              [C.DEC_TOKEN, C.DEC_MEMORY, C.DEC_KEYS, C.DEC_MASK, *self.states],
                              [C.DEC_LOG_PROBS, C.DEC_ATTENTION, *self.states])
        if enc.inputs[C.ENC_TOKENS].shape[1:] != (self.source_len,):
            raise self._fail(f"encode tokens shape {list(enc.inputs[C.ENC_TOKENS].shape)} "
                             f"does not match max_source_len={self.source_len}")
        self.source_tokenizer = self._tokenizer(C.SOURCE)
        self.target_tokenizer = self._tokenizer(C.TARGET)
        self._check_special_ids(self.target_tokenizer)
        width = dec.outputs[C.DEC_LOG_PROBS].shape[-1]
        if width != self.target_tokenizer.vocab_size:
            raise self._fail(f"log_probs width {width} != target vocabulary size "
                             f"{self.target_tokenizer.vocab_size}")
        self.add_bos, self.add_eos = self._add_specials()
        self._handoff = None  # float I/O (every export mode): encode → decode loop handoff
        if enc.plain and dec.plain:
            self._handoff = self.session.handoff(
                C.ENCODE, C.DECODE_STEP, [C.ENC_MEMORY, C.ENC_KEYS, *self.states],
                [C.DEC_TOKEN, *self.states], [C.DEC_LOG_PROBS, C.DEC_ATTENTION, *self.states])

    # -- public API ------------------------------------------------------------------------

    def translate(self, texts: str | Sequence[str], beam: int = 1, max_len: int | None = None,
                  length_penalty: float = DEFAULT_LENGTH_PENALTY, attention_mode: str = "soft",
                  replace_unk: bool = False, batch_size: int = 32,
                  min_len: int = 0) -> list[Translation]:
        """Translate one text or a list of texts.

        Args:
            texts: A sentence or a list of sentences.
            beam: Beam width (1 = greedy).
            max_len: Maximum output tokens (default ``config["max_target_len"]``).
            length_penalty: GNMT alpha for ranking beams (0 = raw log probability).
            attention_mode: ``soft``, ``hard`` or ``monotonic`` (module docstring).
            replace_unk: Replace each produced ``<unk>`` by the source token it attends most.
            batch_size: Sentences encoded and decoded together.
            min_len: Output steps before which ``<eos>`` may not be chosen (0 = none).

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
        sources = [encode_source(self.source_tokenizer, t, self.source_len, self.add_bos,
                                 self.add_eos, "source text") for t in items]
        out: list[Translation] = []
        for start in range(0, len(items), batch_size):
            chunk = sources[start:start + batch_size]
            hyps = self._decode([ids for ids, _ in chunk], beam, max_len, length_penalty,
                                attention_mode, min_len)
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
        step, state = self._prepare([ids], attention_mode, 1)
        eos = self.target_tokenizer.EOS_ID
        for nxt, _, att, _ in iter_greedy(step, state, 1, max_len,
                                          self.target_tokenizer.BOS_ID, eos):
            tok = int(nxt[0])
            if tok == eos:
                return
            word = self.target_tokenizer.tokens([tok])[0]
            if replace_unk and tok == self.target_tokenizer.UNK_ID:
                word = _copy_source(word, shown, att[0, : len(ids)], self.add_bos, self.add_eos)
            yield word

    # -- internals -------------------------------------------------------------------------

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

    def _source_batch(self, batch_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """``(tokens int32[B, S], mask f32[B, S])``: the ids right-padded with ``<pad>``."""
        tokens = np.zeros((len(batch_ids), self.source_len), np.int32)
        for i, ids in enumerate(batch_ids):
            tokens[i, : len(ids)] = ids
        return tokens, (tokens != self.source_tokenizer.PAD_ID).astype(np.float32)

    def _encode(self, batch_ids: list[list[int]],
                repeat: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Encode once for the batch; repeat every row ``repeat`` times for the beams.

        Returns:
            ``(mask f32[B*repeat, S], encode outputs with B*repeat rows)``.
        """
        tokens, mask = self._source_batch(batch_ids)
        enc = self.session.run(C.ENCODE, {C.ENC_TOKENS: tokens, C.ENC_MASK: mask})
        if repeat > 1:
            enc = {k: np.repeat(v, repeat, axis=0) for k, v in enc.items()}
            mask = np.repeat(mask, repeat, axis=0)
        return mask, enc

    def _prepare(self, batch_ids: list[list[int]], mode: str, repeat: int) -> tuple[_Stepper,
                                                                                   State]:
        """The step function and initial state for ``batch_ids`` (encoded here)."""
        mask, enc = self._encode(batch_ids, repeat)
        step = _Stepper(self.session, self.states, enc[C.ENC_MEMORY], enc[C.ENC_KEYS], mask,
                        mode)
        return step, step.initial(enc)

    def _decode(self, batch_ids: list[list[int]], beam: int, max_len: int, alpha: float,
                mode: str, min_len: int = 0) -> list[Hypothesis]:
        bos, eos = self.target_tokenizer.BOS_ID, self.target_tokenizer.EOS_ID
        if beam == 1 and mode == "soft" and len(batch_ids) == 1 and self._handoff:
            hyps = [self._greedy_one(batch_ids[0], max_len, alpha, min_len)]
        else:
            step, state = self._prepare(batch_ids, mode, beam)
            if min_len:
                step = _no_eos_before(step, eos, min_len)
            if beam == 1:
                hyps = greedy_search(step, state, len(batch_ids), max_len, bos, eos, alpha)
            else:
                hyps = beam_search(step, state, len(batch_ids), beam, max_len, bos, eos,
                                   alpha)
        for hyp, ids in zip(hyps, batch_ids):
            hyp.attention = hyp.attention[:, : len(ids)]
        return hyps

    def _greedy_one(self, ids: list[int], max_len: int, alpha: float,
                    min_len: int) -> Hypothesis:
        """One sentence, greedy, soft attention: encode and the lean loop of
        :mod:`.fast_greedy` in one :class:`~edge_attn.runtime.session.Handoff` block."""
        tokens, mask = self._source_batch([ids])
        bos, eos = self.target_tokenizer.BOS_ID, self.target_tokenizer.EOS_ID
        with self._handoff({C.ENC_TOKENS: tokens, C.ENC_MASK: mask},
                           {C.DEC_MASK: mask, C.DEC_TOKEN: np.array([bos], np.int32)}) as step:
            return greedy_bound(step, self.source_len, max_len, bos, eos, alpha, min_len)

    def _finish(self, text: str, shown: list[str], hyp: Hypothesis,
                replace_unk: bool) -> Translation:
        tok = self.target_tokenizer
        words = tok.tokens(hyp.ids)
        replaced = False
        if replace_unk:
            for i, tid in enumerate(hyp.ids):
                if tid == tok.UNK_ID:
                    words[i] = _copy_source(words[i], shown, hyp.attention[i], self.add_bos,
                                            self.add_eos)
                    replaced = True
        out = detokenize(tok, words) if replaced else tok.decode(hyp.ids)
        return Translation(out, words, list(hyp.ids), hyp.score, hyp.normalized_score,
                           hyp.attention, list(shown), hyp.finished, text)


def _copy_source(word: str, shown: list[str], att: np.ndarray, bos: bool, eos: bool) -> str:
    """The source token with the highest attention, unless it is ``<bos>``/``<eos>``."""
    j = int(np.argmax(att[: len(shown)]))
    if (bos and j == 0) or (eos and j == len(shown) - 1):
        return word
    return shown[j]


def detokenize(tokenizer: Any, tokens: list[str]) -> str:
    """Join token strings the way ``tokenizer.decode`` joins ids (for replaced tokens)."""
    from .tokenizer import SPACE_TOKEN, WordTokenizer, detokenize_words

    if isinstance(tokenizer, WordTokenizer):
        if tokenizer.level == "char":
            return "".join(" " if t == SPACE_TOKEN else t for t in tokens)
        return detokenize_words(tokens)
    return "".join(tokens).replace(SPACE_TOKEN, " ").strip()
