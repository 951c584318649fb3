"""Learning a shortlist from pairs: associations by Dice coefficient, frequent tokens."""

from __future__ import annotations

import numpy as np
import pytest

from edge_attn.data.shortlist import learn_shortlist
from edge_attn.runtime.errors import InputError

EOS = 3


def _pairs() -> list[tuple[list[int], list[int]]]:
    # source 10 ↔ target 20 always; 11 ↔ 21; target 5 is in every sentence (a function word)
    pairs = [([10, 4], [5, 20, EOS])] * 6 + [([11, 4], [5, 21, EOS])] * 3
    return pairs + [([12], [5, 22, 21, EOS])]


def test_associations_and_frequent_tokens():
    sl = learn_shortlist(_pairs(), source_vocab=13, target_vocab=23, frequent=2, per_source=2)
    # Hand computation, Dice = 2·c(s,t) / (c(s) + c(t)); ties keep the lower id first.
    # 10: 20 → 2·6/(6+6) = 1, then 3 and 5 → 2·6/(6+10) = .75;  11: 21 → 6/7, then 3 (6/13)
    # 12: 22 → 2/2, 21 → 2/5;  4: 3 and 5 → 18/19, 20 → 12/15
    np.testing.assert_array_equal(sl.table[[10, 11, 12, 4]], [[20, 3], [21, 3], [22, 21], [3, 5]])
    assert (sl.table[0] == -1).all()  # never seen: no entry
    assert sl.always.tolist() == [3, 5]  # the two most frequent targets (10 pairs each)
    ids, n = sl.candidates([10, 4], EOS)
    assert n == 3 and ids[:n].tolist() == [EOS, 5, 20]
    assert sl.hit_rate(_pairs(), EOS) == 1.0
    assert sl.hit_rate([([4], [22])], EOS) == 0.0


def test_bad_pairs_are_refused():
    with pytest.raises(InputError, match="no pairs"):
        learn_shortlist([], 4, 4)
    with pytest.raises(InputError, match="target id 9"):
        learn_shortlist([([1], [9])], 4, 4)
    assert learn_shortlist([([1], [2])], 4, 4, frequent=1).always.dtype == np.int32
