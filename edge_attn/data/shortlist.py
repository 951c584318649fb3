"""Learn a vocabulary shortlist from training pairs (see :mod:`edge_attn.runtime.shortlist`).

Association of a source token s with a target token t is their Dice coefficient over
sentence pairs, ``2·c(s,t) / (c(s) + c(t))`` with ``c`` counting pairs that contain the
token(s) — it prefers translations of s over tokens that are merely frequent everywhere,
which the ``frequent`` list covers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_attn.runtime.errors import InputError
from edge_attn.runtime.shortlist import Shortlist


def learn_shortlist(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], source_vocab: int,
                    target_vocab: int, frequent: int = 512,
                    per_source: int = 24) -> Shortlist:
    """Count co-occurrences in ``pairs`` and keep the strongest associations.

    Args:
        pairs: ``(source ids, target ids)`` of the training split.
        source_vocab: Vs.
        target_vocab: V.
        frequent: How many of the most frequent target ids are always candidates.
        per_source: K, target ids kept per source id.

    Returns:
        The :class:`Shortlist`.

    Raises:
        InputError: No pairs, or an id outside its vocabulary.
    """
    if not pairs:
        raise InputError("cannot learn a shortlist from no pairs")
    src = [np.unique(np.asarray(s, np.int64)) for s, _ in pairs]
    tgt = [np.unique(np.asarray(t, np.int64)) for _, t in pairs]
    for ids, v, side in ((src, source_vocab, "source"), (tgt, target_vocab, "target")):
        top = max((int(a.max()) for a in ids if a.size), default=0)
        if top >= v:
            raise InputError(f"{side} id {top} is outside the vocabulary of {v}")
    c_s = np.bincount(np.concatenate(src), minlength=source_vocab)
    c_t = np.bincount(np.concatenate(tgt), minlength=target_vocab)
    joint = np.zeros((source_vocab, target_vocab), np.int32)
    for start in range(0, len(pairs), 4096):  # bounded memory for the flattened keys
        keys = np.concatenate([(s[:, None] * target_vocab + t[None, :]).ravel()
                               for s, t in zip(src[start:start + 4096], tgt[start:start + 4096])])
        joint += np.bincount(keys, minlength=source_vocab * target_vocab).reshape(
            source_vocab, target_vocab).astype(np.int32)
    dice = 2.0 * joint / np.maximum(c_s[:, None] + c_t[None, :], 1)
    k = min(per_source, target_vocab)
    table = np.argsort(-dice, axis=1, kind="stable")[:, :k].astype(np.int32)
    table[np.take_along_axis(joint, table, axis=1) == 0] = -1
    order = np.argsort(-c_t, kind="stable")
    always = np.sort(order[: min(frequent, target_vocab)]).astype(np.int32)
    return Shortlist(always, table, int(target_vocab))
