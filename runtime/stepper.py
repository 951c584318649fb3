"""Feeds of a seq2seq model's signatures and the batch step function over ``decode_step``.

* :func:`pad_sources` right-pads id lists with ``<pad>`` to the fixed length S and
  :func:`source_mask` is the mask ``ids != pad``; :func:`encode_feeds` and
  :func:`decode_feeds` name the tensors (the only dicts keyed by signature tensor names);
* :class:`Stepper` is the step function of :mod:`~edge_attn.runtime.beam`,
  ``(tokens int32[B], state) -> (log_probs f32[B,V], state, attention f32[B,S])``, carrying the
  decoder states, the decode-time attention mode, ``min_len``, optional extra static inputs
  (``static_feeds``) and an optional map of ``log_probs`` columns to vocabulary ids.

:class:`~.decoder.Decoder` builds both. Shapes: B batch (sentences × beams), S source length,
H units, K key width, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import constants as C
from .beam import State
from .errors import ArtifactError
from .fast_greedy import suppress_eos
from .session import Session

_POS = "__position"  # per-row bookkeeping of the monotonic mode (not a model tensor)


def pad_sources(batch_ids: Sequence[Sequence[int]], length: int, pad: int = 0) -> np.ndarray:
    """int32[B, length]: every id list right-padded with ``pad`` (cut at ``length``)."""
    rows = [list(ids)[:length] for ids in batch_ids]
    return np.array([row + [pad] * (length - len(row)) for row in rows],
                    np.int32).reshape(len(rows), length)


def source_mask(tokens: Any, pad: int = 0) -> np.ndarray:
    """f32[B, S]: 1 for real source tokens, 0 for ``<pad>``."""
    return (np.asarray(tokens) != pad).astype(np.float32)


def encode_feeds(tokens: Any, mask: Any) -> dict[str, Any]:
    """The ``encode`` inputs: tokens int32[B, S] and mask f32[B, S]."""
    return {C.ENC_TOKENS: tokens, C.ENC_MASK: mask}


def decode_feeds(token: Any, memory: Any, keys: Any, mask: Any, states: Mapping[str, Any],
                 static_feeds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``decode_step`` inputs.

    Args:
        token: int32[B] previous output ids.
        memory: f32[B, S, H] encoder outputs.
        keys: f32[B, S, K] precomputed attention keys.
        mask: f32[B, S] source mask.
        states: Decoder state name → f32[B, H] (or [B, 1] for a position).
        static_feeds: Extra per-sentence inputs of the model (name → array), if any.
    """
    feeds = {C.DEC_TOKEN: token, C.DEC_MEMORY: memory, C.DEC_KEYS: keys, C.DEC_MASK: mask}
    feeds.update(states)
    if static_feeds:
        feeds.update(static_feeds)
    return feeds


class Stepper:
    """The step function of :mod:`~edge_attn.runtime.beam` over ``decode_step``.

    Holds the static decoder inputs (memory f32[B,S,H], keys f32[B,S,K], mask f32[B,S] and any
    ``static_feeds``); the state dict holds the decoder state tensors (f32[B,H] each) and, in
    monotonic mode, the previous attention argmax int[B].

    Args:
        session: The model's session.
        states: Decoder state tensor names.
        encoded: ``encode`` outputs (memory, keys, states), B rows.
        mask: f32[B, S] source mask.
        mode: ``soft``, ``hard`` or ``monotonic`` (see :mod:`~edge_attn.runtime.translator`).
        eos: ``<eos>`` column of ``log_probs``.
        min_len: Calls before which ``<eos>`` is forbidden (one call = one step of all rows).
        static_feeds: Extra ``decode_step`` inputs set on every call (e.g. a shortlist).
        columns: int[V'] vocabulary id of each ``log_probs`` column when the model outputs a
            subset of the vocabulary; tokens given to the step are then column indices.
        signature: The step signature (``decode_step``, ``decode_step_shortlist`` or its
            beam twin ``decode_step_shortlist_top``).
    """

    def __init__(self, session: Session, states: Sequence[str], encoded: Mapping[str, Any],
                 mask: np.ndarray, mode: str = "soft", eos: int = 3, min_len: int = 0,
                 static_feeds: Mapping[str, Any] | None = None,
                 columns: np.ndarray | None = None, signature: str = C.DECODE_STEP) -> None:
        self.session, self.states, self.mode = session, list(states), mode
        self.signature = signature
        self.memory, self.keys, self.mask = encoded[C.ENC_MEMORY], encoded[C.ENC_KEYS], mask
        self.eos, self.min_len, self.calls = eos, min_len, 0
        self.static_feeds = dict(static_feeds or {})
        self.columns = None if columns is None else np.asarray(columns, np.int32)
        self.positions = np.arange(mask.shape[1])[None, :]
        self.initial: State = {name: encoded[name] for name in self.states}
        if mode == "monotonic":
            self.initial[_POS] = np.zeros(mask.shape[0], np.int64)

    def _run(self, tokens: np.ndarray, state: State, mask: np.ndarray) -> dict[str, np.ndarray]:
        ids = tokens if self.columns is None else self.columns[tokens]
        return self.session.run(self.signature, decode_feeds(
            ids, self.memory, self.keys, mask, {n: state[n] for n in self.states},
            self.static_feeds))

    def __call__(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State, np.ndarray]:
        mask = self.mask
        if self.mode == "monotonic":
            mask = mask * (self.positions >= state[_POS][:, None]).astype(np.float32)
        out = self._run(tokens, state, mask)
        log_probs, att = out[C.DEC_LOG_PROBS], out[C.DEC_ATTENTION]
        rows = len(tokens)
        if log_probs.ndim != 2 or log_probs.shape[0] != rows or att.shape[0] != rows:
            raise ArtifactError(f"{self.signature} returned log_probs of shape "
                                f"{list(log_probs.shape)} and attention of shape "
                                f"{list(att.shape)} for a batch of {rows} (model edited?)")
        new = {name: out[name] for name in self.states}
        if self.mode == "hard":
            onehot = np.zeros_like(mask)
            onehot[np.arange(len(att)), np.argmax(att * mask, axis=-1)] = 1.0
            log_probs, att = self._run(tokens, state, onehot)[C.DEC_LOG_PROBS], onehot
        elif self.mode == "monotonic":
            new[_POS] = np.argmax(att * mask, axis=-1)
        if self.calls < self.min_len:
            suppress_eos(log_probs, self.eos)
        self.calls += 1
        return log_probs, new, att
