"""Vocabulary shortlist: the target tokens a decode step scores for one sentence.

Large-vocabulary on-device translators score only a per-sentence candidate set instead of the
whole target vocabulary: the target tokens that are frequent everywhere plus, for every source
token, the target tokens most associated with it in the training pairs. The decoder then runs
``decode_step_shortlist``, whose output layer multiplies only the C candidate rows (gathered
inside the step) instead of all V, and whose log-softmax normalises over the candidates.

The table travels in the artifact as ``shortlist.bin`` (little-endian int32, no pickle):
``always`` ids first, then the ``[source_vocab, per_source]`` table (``-1`` = no entry);
``config.json`` holds the counts. Candidate sets are padded to a fixed bucket size so the
interpreter is not re-allocated per sentence. Column 0 is always ``<eos>``; padding columns
hold ``<pad>`` (id 0), all with the same value, which the runtime removes exactly from the
normaliser and masks to ``-inf`` (:mod:`.shortlist_decode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import constants as C
from .errors import ArtifactError

BUCKET = 64  # candidate counts are rounded up to a multiple of this


@dataclass(frozen=True)
class Shortlist:
    """A learned shortlist.

    Attributes:
        always: int32[F] target ids always scored (frequent tokens and the specials).
        table: int32[Vs, K] per source id the K most associated target ids (-1 = none).
        target_vocab: V, the size of the full target vocabulary.
    """

    always: np.ndarray
    table: np.ndarray
    target_vocab: int

    @property
    def per_source(self) -> int:
        """K, target ids kept per source token."""
        return int(self.table.shape[1])

    def candidates(self, source_ids: Sequence[int], eos: int,
                   never: Sequence[int] = ()) -> tuple[np.ndarray, int]:
        """The candidate ids of one sentence, padded to a bucket.

        Args:
            source_ids: The sentence's source ids (padding excluded).
            eos: The target ``<eos>`` id: always column 0.
            never: Ids never output (``<pad>``, ``<bos>``): left out.

        Returns:
            ``(ids int32[C], n)``: ``<eos>``, then the other ``n - 1`` distinct candidates
            in increasing id order, then ``C - n`` zeros (``<pad>``; C a multiple of
            :data:`BUCKET`).
        """
        rows = self.table[np.clip(np.asarray(source_ids, np.int64), 0, len(self.table) - 1)]
        ids = np.union1d(self.always, rows[rows >= 0])
        ids = ids[~np.isin(ids, [eos, 0, *never])]
        n = len(ids) + 1
        out = np.zeros(-(-n // BUCKET) * BUCKET, np.int32)
        out[0], out[1:n] = eos, ids
        return out, n

    def to_bytes(self) -> bytes:
        """``always`` then ``table`` as little-endian int32."""
        return (self.always.astype("<i4").tobytes()
                + self.table.astype("<i4").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes, n_always: int, source_vocab: int, per_source: int,
                   target_vocab: int) -> Shortlist:
        """Parse :meth:`to_bytes` output and check every id is in range.

        Raises:
            ArtifactError: Wrong length or an id outside the target vocabulary.
        """
        want = 4 * (n_always + source_vocab * per_source)
        if len(data) != want:
            raise ArtifactError(f"{C.SHORTLIST_MEMBER} has {len(data)} bytes, expected {want}")
        arr = np.frombuffer(data, "<i4").astype(np.int32)
        always, table = arr[:n_always], arr[n_always:].reshape(source_vocab, per_source)
        if n_always < 1 or always.min() < 0 or max(always.max(), table.max()) >= target_vocab \
                or table.min() < -1:
            raise ArtifactError(f"{C.SHORTLIST_MEMBER} holds ids outside the target vocabulary "
                                f"[0, {target_vocab})")
        return cls(always, table, int(target_vocab))

    def hit_rate(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]], eos: int,
                 never: Sequence[int] = ()) -> float:
        """Fraction of target ids (of ``(source ids, target ids)`` pairs) in their
        sentence's candidate set."""
        hits = total = 0
        for src, tgt in pairs:
            ids, n = self.candidates(src, eos, never)
            hits += int(np.isin(np.asarray(tgt), ids[:n]).sum())
            total += len(tgt)
        return hits / total if total else 1.0
