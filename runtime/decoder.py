"""The seq2seq decoder adapter: the one place that drives ``encode`` / ``decode_step``.

Everything that talks to a seq2seq model's signatures goes through here — the
:class:`~edge_attn.runtime.translator.Translator`, :mod:`~edge_attn.runtime.profile`, export
calibration and validation, the benchmarks. The feeds and the batch step function
(:class:`~.stepper.Stepper`) are in :mod:`.stepper` (re-exported here);
:meth:`Decoder.decode` is the one entry point: the bound loops of :mod:`.fast_greedy` and
:mod:`.fast_beam` for one sentence with soft attention, :func:`~.beam.greedy_search` and
:func:`~.beam.beam_search` for batches and the other attention modes.

Shapes: B batch (sentences × beams), S source length, H units, K key width, V vocabulary.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import constants as C
from .beam import Hypothesis, State, beam_search, greedy_search, iter_greedy
from .config import Seq2SeqConfig
from .contract import require_signature
from .errors import ArtifactError, InputError
from .fast_beam import beam_bound
from .fast_greedy import greedy_bound
from .session import Session
from .shortlist import Shortlist
from .shortlist_decode import ShortlistStep
from .stepper import Stepper, decode_feeds, encode_feeds, pad_sources, source_mask

__all__ = ["Decoder", "Stepper", "decode_feeds", "encode_feeds", "pad_sources", "source_mask"]

TOP_OUTPUTS = (C.DEC_TOP_LOG_PROBS, C.DEC_TOP_COLUMNS)  # of the beam's shortlist step


class Decoder:
    """Decode with a seq2seq model's ``encode`` + ``decode_step`` (checked at construction).

    Args:
        session: The model's session.
        config: The artifact's seq2seq part.
        origin: Artifact name for error messages.

    Attributes:
        source_len: Fixed source length S.
        max_target_len: Default maximum output steps.
        states: Decoder state tensor names.
        vocab_size: Width V of ``log_probs``.
        pad, bos, eos: Special ids (source ``<pad>``, target ``<bos>``/``<eos>``).

    Raises:
        ArtifactError: Signatures that do not match the seq2seq contract or the config.
    """

    def __init__(self, session: Session, config: Seq2SeqConfig, origin: str = "artifact"
                 ) -> None:
        self.session, self.origin = session, origin
        self.source_len, self.max_target_len = config.max_source_len, config.max_target_len
        self.states = list(config.state_names)
        self.pad = config.source.special_ids.pad
        self.bos, self.eos = config.target.special_ids.bos, config.target.special_ids.eos
        enc = self._signature(C.ENCODE, [C.ENC_TOKENS, C.ENC_MASK],
                              [C.ENC_MEMORY, C.ENC_KEYS, *self.states])
        dec = self._signature(C.DECODE_STEP,
                              [C.DEC_TOKEN, C.DEC_MEMORY, C.DEC_KEYS, C.DEC_MASK, *self.states],
                              [C.DEC_LOG_PROBS, C.DEC_ATTENTION, *self.states])
        if enc.inputs[C.ENC_TOKENS].shape[1:] != (self.source_len,):
            raise self._fail(f"encode tokens shape {list(enc.inputs[C.ENC_TOKENS].shape)} "
                             f"does not match max_source_len={self.source_len}")
        self.vocab_size = dec.outputs[C.DEC_LOG_PROBS].shape[-1]
        want = config.target.vocab_size
        if want is not None and self.vocab_size != want:
            raise self._fail(f"log_probs width {self.vocab_size} != target vocabulary size "
                             f"{want} in the config")
        self._handoff = None  # float I/O (every export mode): encode → decode loop handoff
        self._handoff_sl = self._handoff_beam = None
        self.has_shortlist_step = C.DECODE_STEP_SHORTLIST in session.signatures
        self.shortlist_top = False
        self.shortlist_input = C.DEC_EXTRA_CANDIDATES  # the head layout (see .shortlist)
        if self.has_shortlist_step:
            if C.DEC_CANDIDATES in session.signatures[C.DECODE_STEP_SHORTLIST].inputs:
                self.shortlist_input = C.DEC_CANDIDATES  # exported before the head
            sl = self._signature(C.DECODE_STEP_SHORTLIST, [*dec.inputs, self.shortlist_input],
                                 [C.DEC_LOG_PROBS, C.DEC_ATTENTION, *self.states])
            self.shortlist_top = C.DECODE_STEP_SHORTLIST_TOP in session.signatures
            if self.shortlist_top:
                top = self._signature(C.DECODE_STEP_SHORTLIST_TOP, list(sl.inputs),
                                      [*sl.outputs, *TOP_OUTPUTS])
        if enc.plain and dec.plain:
            self._handoff = self._lean(C.DECODE_STEP)
            if self.has_shortlist_step and sl.plain:
                self._handoff_sl = self._lean(C.DECODE_STEP_SHORTLIST)
                if self.shortlist_top and top.plain:  # the beam's own step
                    self._handoff_beam = self._lean(C.DECODE_STEP_SHORTLIST_TOP, TOP_OUTPUTS)

    def _lean(self, step: str, extra: Sequence[str] = ()) -> Any:
        return self.session.handoff(
            C.ENCODE, step, [C.ENC_MEMORY, C.ENC_KEYS, *self.states],
            [C.DEC_TOKEN, *self.states],
            [C.DEC_LOG_PROBS, C.DEC_ATTENTION, *self.states, *extra])

    def _fail(self, message: str) -> ArtifactError:
        return ArtifactError(f"{self.origin}: {message}")

    def _signature(self, name: str, inputs: Sequence[str], outputs: Sequence[str]) -> Any:
        return require_signature(self.session.signatures, name, inputs, outputs, self.origin,
                                 f" (state names {self.states})")

    @property
    def lean(self) -> bool:
        """Whether one soft-attention sentence takes the bound loops of :mod:`.fast_greedy`
        and :mod:`.fast_beam`."""
        return self._handoff is not None

    def source_batch(self, batch_ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """``(tokens int32[B, S], mask f32[B, S])``: the ids right-padded with ``<pad>``."""
        tokens = pad_sources(batch_ids, self.source_len, self.pad)
        return tokens, source_mask(tokens, self.pad)

    def first_feeds(self, tokens: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        """``encode`` feeds of padded tokens int32[B, S] and the first ``decode_step`` feeds
        (``<bos>``, the encoder's outputs): what a profile times signature by signature."""
        mask = source_mask(tokens, self.pad)
        enc_feed = encode_feeds(tokens, mask)
        enc = self.session.run(C.ENCODE, enc_feed)
        dec_feed = decode_feeds(np.full(len(tokens), self.bos, np.int32), enc[C.ENC_MEMORY],
                                enc[C.ENC_KEYS], mask, {n: enc[n] for n in self.states})
        return enc_feed, dec_feed

    def stepper(self, batch_ids: Sequence[Sequence[int]], mode: str = "soft", repeat: int = 1,
                min_len: int = 0, static_feeds: Mapping[str, Any] | None = None,
                columns: np.ndarray | None = None,
                signature: str = C.DECODE_STEP) -> tuple[Stepper, State]:
        """Encode ``batch_ids`` once and return the step function and its initial state.

        Every row is repeated ``repeat`` times (the beams of a sentence are adjacent rows).
        """
        tokens, mask = self.source_batch(batch_ids)
        enc = self.session.run(C.ENCODE, encode_feeds(tokens, mask))
        if repeat > 1:
            enc = {k: np.repeat(v, repeat, axis=0) for k, v in enc.items()}
            mask = np.repeat(mask, repeat, axis=0)
            static_feeds = {k: v if k in C.UNBATCHED else np.repeat(np.asarray(v), repeat, 0)
                            for k, v in (static_feeds or {}).items()}
        eos = self.eos if columns is None else _column(columns, self.eos, "<eos>")
        if signature in (C.DECODE_STEP_SHORTLIST, C.DECODE_STEP_SHORTLIST_TOP):
            eos = ShortlistStep.EOS_COLUMN
        step = Stepper(self.session, self.states, enc, mask, mode, eos, min_len, static_feeds,
                       columns, signature)
        return step, dict(step.initial)

    def decode(self, batch_ids: Sequence[Sequence[int]], beam: int = 1,
               max_len: int | None = None, alpha: float = 0.0, mode: str = "soft",
               min_len: int = 0, static_feeds: Mapping[str, Any] | None = None,
               columns: np.ndarray | None = None,
               shortlist: Shortlist | None = None, lean: bool = True) -> list[Hypothesis]:
        """Decode every sentence: greedy (``beam == 1``) or beam search.

        Args:
            batch_ids: Source id lists (each at most S ids).
            beam: Beam width.
            max_len: Maximum output steps (default ``max_target_len``).
            alpha: GNMT length penalty.
            mode: Decode-time attention mode.
            min_len: Steps before which ``<eos>`` cannot be chosen.
            static_feeds: Extra ``decode_step`` inputs, one row per sentence.
            columns: Vocabulary id of each ``log_probs`` column (see :class:`Stepper`).
            shortlist: Score only each sentence's shortlist candidates
                (``decode_step_shortlist``; see :mod:`.shortlist_decode`).
            lean: Take the bound one-sentence loops where they apply (``False``: always the
                general batch path, which gives the same hypotheses; for comparisons).

        Returns:
            One hypothesis per sentence; ids are vocabulary ids, attention f32[T, len(ids)].
        """
        max_len = self.max_target_len if max_len is None else max_len
        if shortlist is not None:
            hyps = self._decode_shortlist(batch_ids, shortlist, beam, max_len, alpha, mode,
                                          min_len, lean)
            for hyp, ids in zip(hyps, batch_ids):
                hyp.attention = hyp.attention[:, : len(ids)]
            return hyps
        if lean and mode == "soft" and len(batch_ids) == 1 and self.lean and columns is None:
            tokens, mask = self.source_batch(batch_ids)
            rest = {C.DEC_MASK: mask, **(static_feeds or {})}
            hyps = [self._bound(self._handoff, tokens, rest, beam, max_len, alpha, min_len)]
        else:
            step, state = self.stepper(batch_ids, mode, beam, min_len, static_feeds, columns)
            bos, eos = self.bos, self.eos
            if columns is not None:
                bos, eos = _column(columns, bos, "<bos>"), step.eos
            if beam == 1:
                hyps = greedy_search(step, state, len(batch_ids), max_len, bos, eos, alpha)
            else:
                hyps = beam_search(step, state, len(batch_ids), beam, max_len, bos, eos, alpha)
            if columns is not None:
                for hyp in hyps:
                    hyp.ids = [int(step.columns[i]) for i in hyp.ids]
        for hyp, ids in zip(hyps, batch_ids):
            hyp.attention = hyp.attention[:, : len(ids)]
        return hyps

    def _bound(self, handoff: Any, tokens: np.ndarray, rest: Mapping[str, np.ndarray],
               beam: int, max_len: int, alpha: float, min_len: int,
               columns: np.ndarray | None = None, valid: int = 0) -> Hypothesis:
        """One sentence, soft attention: encode and the bound loop of :mod:`.fast_greedy`
        (``beam == 1``) or :mod:`.fast_beam` in one
        :class:`~edge_attn.runtime.session.Handoff` block.

        Args:
            handoff: The encode → step handoff.
            tokens: int32[1, S] padded source.
            rest: The step's other per-sentence inputs, one row each (the source mask f32[1, S]
                under ``C.DEC_MASK``, candidates...).
        """
        feeds = dict(rest) if beam == 1 else {
            k: v if k in C.UNBATCHED else np.repeat(v, beam, axis=0) for k, v in rest.items()}
        feeds[C.DEC_TOKEN] = np.full(beam, self.bos, np.int32)
        with handoff(encode_feeds(tokens, rest[C.DEC_MASK]), feeds, repeat=beam) as step:
            try:
                if beam == 1:
                    return greedy_bound(step, self.source_len, max_len, self.bos, self.eos,
                                        alpha, min_len, columns, valid)
                return beam_bound(step, beam, self.source_len, max_len, self.bos, self.eos,
                                  alpha, min_len, columns, valid)
            except RuntimeError as exc:  # a kernel check, e.g. an id outside the table
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
                raise InputError(f"decode_step rejected its inputs: {detail}") from None

    def shortlist_head(self, shortlist: Shortlist) -> np.ndarray | None:
        """int32[F] the head columns the shortlist step holds as constants (None: the step
        exported before the head, which takes every candidate)."""
        if self.shortlist_input == C.DEC_CANDIDATES:
            return None
        return shortlist.head(self.eos, (self.pad, self.bos))

    def candidates(self, batch_ids: Sequence[Sequence[int]], shortlist: Shortlist
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The columns of the shortlist step's ``log_probs`` for a batch of sentences.

        Returns:
            ``(columns int32[B, C], valid int[B], allowed bool[B, C] | None)``: the
            vocabulary id of every column per row, real columns per row (padding after),
            and — when several sentences share one set of extra candidates (their union,
            the head layout) — which columns each row may output.
        """
        head = self.shortlist_head(shortlist)
        never = (self.pad, self.bos)
        sets = [shortlist.candidates(ids, self.eos, never, head) for ids in batch_ids]
        if len(sets) == 1:
            return sets[0][0][None], np.array([sets[0][1]]), None
        if head is None:  # every row its own candidates
            out = np.zeros((len(sets), max(len(c) for c, _ in sets)), np.int32)
            for i, (c, _) in enumerate(sets):
                out[i, : len(c)] = c
            return out, np.array([n for _, n in sets]), None
        f = len(head)
        cols, n = shortlist.union(sets, head)
        allowed = np.zeros((len(sets), len(cols)), bool)
        allowed[:, :f] = True
        for i, (c, k) in enumerate(sets):
            allowed[i, f + np.searchsorted(cols[f:n], c[f:k])] = True
        return np.tile(cols, (len(sets), 1)), np.full(len(sets), n), allowed

    def shortlist_feed(self, columns: np.ndarray, shortlist: Shortlist) -> dict[str, Any]:
        """The shortlist step's candidate input for the columns of :meth:`candidates`: the
        extra columns after the head (one set, every row alike), or every row's columns
        for a step exported before the head."""
        head = self.shortlist_head(shortlist)
        return {self.shortlist_input: columns if head is None else columns[0, len(head):]}

    def _decode_shortlist(self, batch_ids: Sequence[Sequence[int]], shortlist: Shortlist,
                          beam: int, max_len: int, alpha: float, mode: str,
                          min_len: int, lean: bool = True) -> list[Hypothesis]:
        if not self.has_shortlist_step:
            raise InputError("this model has no decode_step_shortlist signature; export it "
                             "with --shortlist-data, or decode without the shortlist")
        cols, valid, allowed = self.candidates(batch_ids, shortlist)
        feed = self.shortlist_feed(cols, shortlist)
        if lean and mode == "soft" and len(batch_ids) == 1 and self._handoff_sl:
            tokens, mask = self.source_batch(batch_ids)
            rest = {C.DEC_MASK: mask, **feed}
            handoff = self._handoff_beam if beam > 1 and self._handoff_beam else self._handoff_sl
            return [self._bound(handoff, tokens, rest, beam, max_len, alpha, min_len,
                                cols[0], int(valid[0]))]
        # a beam runs on the beam twin on every path: the bound loop's hypotheses and these
        # come from the same kernels (backends may round the twins apart in the last bit)
        sig = (C.DECODE_STEP_SHORTLIST_TOP if beam > 1 and self.shortlist_top
               else C.DECODE_STEP_SHORTLIST)
        inner, state = self.stepper(batch_ids, mode, beam, min_len, feed, None, sig)
        step = ShortlistStep(inner, np.repeat(cols, beam, axis=0), np.repeat(valid, beam),
                             self.bos, None if allowed is None else np.repeat(allowed, beam, 0))
        bos, eos = ShortlistStep.BOS_COLUMN, ShortlistStep.EOS_COLUMN
        if beam == 1:
            hyps = greedy_search(step, state, len(batch_ids), max_len, bos, eos, alpha)
        else:
            hyps = beam_search(step, state, len(batch_ids), beam, max_len, bos, eos, alpha)
        for i, hyp in enumerate(hyps):
            hyp.ids = step.to_ids(i * beam, hyp.ids)
        return hyps

    def iter_tokens(self, ids: Sequence[int], max_len: int | None = None,
                    mode: str = "soft") -> Iterator[tuple[int, np.ndarray]]:
        """Greedy-decode one sentence, yielding ``(token id, attention f32[len(ids)])`` per
        step until ``<eos>`` (not yielded) or ``max_len``."""
        step, state = self.stepper([ids], mode)
        max_len = self.max_target_len if max_len is None else max_len
        for nxt, _, att, _ in iter_greedy(step, state, 1, max_len, self.bos, self.eos):
            tok = int(nxt[0])
            if tok == self.eos:
                return
            yield tok, att[0, : len(ids)]

    def forced(self, tokens: np.ndarray, steps: int, beam: int = 1,
               shortlist: Shortlist | None = None) -> np.ndarray:
        """Exactly ``steps`` greedy steps per row of padded int32[B, S] sources (``<eos>``
        suppressed: ``min_len = max_len = steps``), through the path ``decode`` takes.

        Returns:
            int32[B, steps] the decoded ids.
        """
        batch_ids = [[int(t) for t in row if t != self.pad] for row in tokens]
        hyps = self.decode(batch_ids, beam, steps, 0.0, "soft", min_len=steps,
                           shortlist=shortlist)
        return np.array([h.ids for h in hyps], np.int32)


def _column(columns: np.ndarray, token: int, name: str) -> int:
    """The ``log_probs`` column of vocabulary id ``token`` (InputError if absent)."""
    hits = np.flatnonzero(np.asarray(columns) == token)
    if not hits.size:
        raise InputError(f"the column map must contain {name} (id {token})")
    return int(hits[0])
