"""Export as earlier edge-attn did. Before the shortlist head, ``decode_step_shortlist``
took every candidate of every row (``candidates int32[B, C]``, rows gathered per step) and
the config declared no head; after it and before the in-graph top-k, the step had no
``decode_step_shortlist_top`` twin. Users hold such artifacts; the fixtures build
them to prove they still decode (tests/test_runtime_shortlist_model.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from edge_attn.runtime import constants as C


def _endpoint(model: Any, tf: Any, calls: Any, decode_specs: list[Any], head: Any,
              top: bool = False) -> tuple:
    names = model.state_names
    kernel = tf.transpose(tf.convert_to_tensor(model.project.kernel))  # [V, H]
    bias = tf.convert_to_tensor(model.project.bias)

    def decode_step_shortlist(token, *rest):
        states = list(rest[: len(names)])
        memory, keys, mask, candidates = rest[len(names):]
        features, new_states, attention = model.step_features(token, states, memory, keys,
                                                              mask, calls)
        rows = tf.gather(kernel, candidates)  # [B, C, H]
        logits = tf.squeeze(tf.matmul(rows, features[:, :, None]), -1)
        logits = logits + tf.gather(bias, candidates)
        return {C.DEC_LOG_PROBS: tf.nn.log_softmax(logits, -1), C.DEC_ATTENTION: attention,
                **dict(zip(names, new_states))}

    spec = [*decode_specs, tf.TensorSpec([None, None], tf.int32, name=C.DEC_CANDIDATES)]
    return decode_step_shortlist, spec


def _feeds(feeds: Iterator, shortlist: Any, eos: int, never: tuple = ()) -> Iterator:
    candidates = None
    for name, feed in feeds:
        yield name, feed
        if name == C.ENCODE:
            sets = [shortlist.candidates(row[row != 0], eos, never)[0]
                    for row in np.asarray(feed[C.ENC_TOKENS])]
            candidates = np.zeros((len(sets), max(len(s) for s in sets)), np.int32)
            for i, s in enumerate(sets):
                candidates[i, : len(s)] = s
        elif name == C.DECODE_STEP and candidates is not None:
            yield C.DECODE_STEP_SHORTLIST, dict(feed, **{C.DEC_CANDIDATES: candidates})


@contextmanager
def legacy_shortlist_export() -> Iterator[None]:
    """Within the block, ``export(..., shortlist_data=...)`` writes the pre-head layout."""
    from edge_attn.export import spec_seq2seq as mod

    saved = mod.shortlist_endpoint, mod.ShortlistConfig
    config = mod.ShortlistConfig
    mod.shortlist_endpoint = _endpoint
    mod.ShortlistConfig = lambda *args: config(*args[:5])  # no head declared
    try:
        with no_top_export():
            mod.with_shortlist = _feeds  # restored by no_top_export
            yield
    finally:
        mod.shortlist_endpoint, mod.ShortlistConfig = saved


@contextmanager
def no_top_export() -> Iterator[None]:
    """Within the block, export writes no ``decode_step_shortlist_top`` signature."""
    from edge_attn.export import spec_seq2seq as mod

    saved = mod.Seq2SeqSpec.endpoints, mod.with_shortlist

    def endpoints(self: Any, calls: Any) -> dict:
        eps = saved[0](self, calls)
        eps.pop(C.DECODE_STEP_SHORTLIST_TOP, None)
        return eps

    def feeds(*args: Any) -> Iterator:
        return ((n, f) for n, f in saved[1](*args) if n != C.DECODE_STEP_SHORTLIST_TOP)

    mod.Seq2SeqSpec.endpoints = endpoints
    mod.with_shortlist = feeds
    try:
        yield
    finally:
        mod.Seq2SeqSpec.endpoints, mod.with_shortlist = saved
