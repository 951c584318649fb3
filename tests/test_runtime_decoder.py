"""The seq2seq decoder adapter (runtime/decoder.py) on the bundled model: one entry point
for greedy / beam / the lean loop, the column map and the static-feed hook."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_attn.runtime import constants as C
from edge_attn.runtime import load_model
from edge_attn.runtime.decoder import decode_feeds, pad_sources, source_mask
from edge_attn.runtime.errors import InputError

BUNDLED = Path(__file__).resolve().parent.parent / "runtime" / "models" / "dates-int8.eatt"


@pytest.fixture(scope="module")
def decoder():
    tr = load_model(BUNDLED, num_threads=1)
    ids = [tr.source_tokenizer.encode(t, add_eos=False)
           for t in ("march 3rd 2021", "12/25/49", "1. mai 2033")]
    return tr.decoder, ids


def test_padding_and_mask_are_the_runtimes() -> None:
    tokens = pad_sources([[5, 6], [7]], 4, pad=0)
    assert tokens.tolist() == [[5, 6, 0, 0], [7, 0, 0, 0]] and tokens.dtype == np.int32
    assert source_mask(tokens).tolist() == [[1, 1, 0, 0], [1, 0, 0, 0]]
    feeds = decode_feeds(1, 2, 3, 4, {"state_h": 5}, {"extra": 6})
    assert feeds == {C.DEC_TOKEN: 1, C.DEC_MEMORY: 2, C.DEC_KEYS: 3, C.DEC_MASK: 4,
                     "state_h": 5, "extra": 6}


def test_one_entry_point_greedy_batch_and_beam_agree(decoder) -> None:
    dec, ids = decoder
    batch = dec.decode(ids)
    singles = [dec.decode([row])[0] for row in ids]  # int8 I/O: general path per sentence
    beams = dec.decode(ids, beam=3)
    assert [h.ids for h in batch] == [h.ids for h in singles] == [h.ids for h in beams]
    assert all(h.attention.shape == (len(h.ids), len(row)) for h, row in zip(batch, ids))


def test_identity_column_map_changes_nothing(decoder) -> None:
    dec, ids = decoder
    columns = np.arange(dec.vocab_size, dtype=np.int32)
    plain = dec.decode(ids, beam=2)
    mapped = dec.decode(ids, beam=2, columns=columns)
    assert [h.ids for h in mapped] == [h.ids for h in plain]
    with pytest.raises(InputError, match="column map must contain <eos>"):
        dec.decode(ids, columns=columns[4:])


def test_static_feeds_reach_decode_step(decoder) -> None:
    dec, ids = decoder
    with pytest.raises(InputError, match="takes inputs"):
        dec.decode(ids[:1], static_feeds={"shortlist": np.zeros((1, 3), np.int32)})


def test_min_len_is_one_rule_on_every_path(decoder) -> None:
    dec, ids = decoder
    for beam in (1, 2):
        hyps = dec.decode(ids, beam=beam, max_len=5, min_len=5)
        assert all(len(h.ids) == 5 and dec.eos not in h.ids for h in hyps)
