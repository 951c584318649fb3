"""Vocabulary shortlist: the target tokens a decode step scores for one sentence.

Large-vocabulary on-device translators score only a per-sentence candidate set instead of the
whole target vocabulary: the target tokens that are frequent everywhere plus, for every source
token, the target tokens most associated with it in the training pairs. The decoder then runs
``decode_step_shortlist``, whose output layer multiplies only the C candidate rows instead of
all V, and whose log-softmax normalises over the candidates.

Columns of a step: the **head** (``<eos>``, then the ``always`` ids; the same for every
sentence, so the export bakes their output rows into the step as one constant matrix, a
fully-connected layer XNNPACK runs at full speed), then the **extra** ids (the sentence's
table entries not in the head, in increasing order; only these rows are gathered per step,
one set shared by every row of the batch — the beams of a sentence, or the union over the
sentences of a batch, each row masked to its own), then — to a multiple of
:data:`EXTRA_BUCKET`, so that the interpreter is rarely re-allocated — a sentence's
**fillers** (the lowest other ids: more real candidates instead of padding), a batch's union
``<pad>`` padding. Artifacts exported before the head fed every candidate of every row as
``candidates`` (``<eos>``, all other ids in increasing order, padding to :data:`BUCKET`);
:meth:`Shortlist.candidates` builds either layout.

The table travels in the artifact as ``shortlist.bin`` (little-endian int32, no pickle):
``always`` ids first, then the ``[source_vocab, per_source]`` table (``-1`` = no entry);
``config.json`` holds the counts. Candidate sets are padded to a bucket size so the
interpreter is rarely re-allocated between sentences. Column 0 is always ``<eos>``; padding columns
hold ``<pad>`` (id 0), all with the same value, which the runtime removes exactly from the
normaliser and masks to ``-inf`` (:mod:`.shortlist_decode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import constants as C
from .errors import ArtifactError

BUCKET = 64  # candidate counts of the head-less layout are rounded up to a multiple of this
EXTRA_BUCKET = 16  # extra columns (after the head) are rounded up to a multiple of this


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
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def per_source(self) -> int:
        """K, target ids kept per source token."""
        return int(self.table.shape[1])

    def head(self, eos: int, never: Sequence[int] = ()) -> np.ndarray:
        """int32[F] the columns every sentence shares: ``<eos>``, then the ``always`` ids
        (without ``<pad>``, ``<eos>`` and ``never``) in increasing order (cached)."""
        key = ("head", eos, tuple(never))
        if key not in self._cache:
            rest = self.always[~np.isin(self.always, [eos, 0, *never])]
            self._cache[key] = np.concatenate([[eos], np.unique(rest)]).astype(np.int32)
        return self._cache[key]

    def candidates(self, source_ids: Sequence[int], eos: int, never: Sequence[int] = (),
                   head: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """The candidate ids of one sentence, padded to a bucket.

        Args:
            source_ids: The sentence's source ids (padding excluded).
            eos: The target ``<eos>`` id: always column 0.
            never: Ids never output (``<pad>``, ``<bos>``): left out.
            head: :meth:`head` for the head layout; None for the head-less one.

        Returns:
            ``(ids int32[C], n)``: the ``n`` distinct candidates, then ``C - n`` zeros
            (``<pad>``). Head layout: ``head``, then the other candidates in increasing
            order, then fillers (:meth:`_filled`) up to ``len(head)`` plus a positive
            multiple of :data:`EXTRA_BUCKET` (``n == C`` unless the vocabulary runs out).
            Head-less (the table's own set, as exported before the head and as
            :meth:`hit_rate` counts): ``<eos>``, then the other candidates in increasing
            order, padded to a multiple of :data:`BUCKET`.
        """
        rows = np.take(self.table, np.asarray(source_ids, np.int64), axis=0, mode="clip")
        # Masks over the vocabulary instead of set operations (a sentence costs ~15 µs).
        marked = np.zeros(self.target_vocab + 1, bool)  # the last entry takes the -1s
        marked[rows] = True
        if head is None:
            marked[self.always] = True
        marked = marked[:-1] & self._allowed(eos, tuple(never), head)
        if head is not None:
            return self._filled(head, np.flatnonzero(marked), marked, eos, tuple(never))
        ids = np.flatnonzero(marked)
        n = len(ids) + 1
        out = np.zeros(-(-n // BUCKET) * BUCKET, np.int32)
        out[0], out[1:n] = eos, ids
        return out, n

    def _filled(self, head: np.ndarray, extra: np.ndarray, marked: np.ndarray, eos: int,
                never: tuple[int, ...]) -> tuple[np.ndarray, int]:
        """:meth:`pad_extras`, the padding taken by **fillers** — the lowest ids that may be
        extras and are not yet candidates — ``<pad>`` only where those run out.

        Fillers are real candidates (ids are roughly by frequency in the project's
        vocabularies, so they are frequent tokens): a sentence's step then has no padding
        columns, hence nothing to renormalise per step (:mod:`.shortlist_decode`).

        Args:
            head: :meth:`head`.
            extra: int[E] the sentence's extras, increasing.
            marked: bool[V] True for the extras.
        """
        out, n = self.pad_extras(head, extra)
        need = len(out) - n
        if need:
            key = ("fill", eos, never)
            if key not in self._cache:
                self._cache[key] = np.flatnonzero(self._allowed(eos, never, head))
            order = self._cache[key][: need + len(extra)]  # at most len(extra) are extras
            fill = order[~marked[order]][:need]
            out[n: n + len(fill)] = fill
            n += len(fill)
        return out, n

    def _allowed(self, eos: int, never: tuple[int, ...], head: np.ndarray | None) -> np.ndarray:
        """bool[V]: ids that may follow column 0 / the head (cached; ``head`` is
        :meth:`head`'s array for the same ``eos`` and ``never``, or None)."""
        key = ("allowed", eos, never, head is not None)
        if key not in self._cache:
            allowed = np.ones(self.target_vocab, bool)
            allowed[[eos, 0, *never]] = False
            if head is not None:
                allowed[head] = False
            self._cache[key] = allowed
        return self._cache[key]

    def union(self, sets: Sequence[tuple[np.ndarray, int]], head: np.ndarray
              ) -> tuple[np.ndarray, int]:
        """The head layout's columns of several sentences sharing one set of extras.

        Args:
            sets: :meth:`candidates` of each sentence (head layout, the same ``head``).
            head: The head.

        Returns:
            :meth:`pad_extras` of the union of their extra candidates.
        """
        f = len(head)
        return self.pad_extras(head, np.unique(np.concatenate([c[f:n] for c, n in sets])))

    @staticmethod
    def pad_extras(head: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, int]:
        """``(head, extra, <pad>...) int32[F + E']`` with E' the smallest positive multiple
        of :data:`EXTRA_BUCKET` that holds ``extra``, and ``F + len(extra)``."""
        n = len(head) + len(extra)
        out = np.zeros(len(head) + max(1, -(-len(extra) // EXTRA_BUCKET)) * EXTRA_BUCKET,
                       np.int32)
        out[: len(head)], out[len(head): n] = head, extra
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
            ids, n = self.candidates(src, eos, never)  # the same set in either layout
            hits += int(np.isin(np.asarray(tgt), ids[:n]).sum())
            total += len(tgt)
        return hits / total if total else 1.0
