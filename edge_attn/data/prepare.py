"""Turn text pairs / labelled texts into padded id arrays with the runtime's tokenizer.

Shared by training and export (calibration and validation examples are encoded exactly as
training encoded its data). Padding is the runtime's own (:func:`~edge_attn.runtime.decoder.
pad_sources`), so a device pads as training did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_attn.runtime.decoder import pad_sources
from edge_attn.runtime.tokenizer import WordTokenizer


def pad(seqs: Sequence[Sequence[int]], length: int) -> np.ndarray:
    """Right-pad id lists with ``<pad>`` (0) to ``length`` (longer lists are cut).

    Returns:
        int32 [N, length].
    """
    return pad_sources(seqs, length, WordTokenizer.PAD_ID)


def encode_pairs(pairs: Sequence[tuple[str, str]], src_tok: WordTokenizer,
                 tgt_tok: WordTokenizer, max_source_len: int,
                 max_target_len: int) -> dict[str, np.ndarray]:
    """Source ids, decoder inputs (``<bos>`` + target) and outputs (target + ``<eos>``).

    Pairs longer than the limits must have been filtered out by the caller.

    Returns:
        ``{"source": [N,S], "target_in": [N,T], "target_out": [N,T]}`` int32.
    """
    src = [src_tok.encode(s, add_eos=False) for s, _ in pairs]
    tgt = [tgt_tok.encode(t, add_eos=True) for _, t in pairs]
    return {
        "source": pad(src, max_source_len),
        "target_in": pad([[WordTokenizer.BOS_ID] + t[:-1] for t in tgt], max_target_len),
        "target_out": pad(tgt, max_target_len),
    }


def fits(pairs: Sequence[tuple[str, str]], src_tok: WordTokenizer, tgt_tok: WordTokenizer,
         max_source_len: int, max_target_len: int) -> list[tuple[str, str]]:
    """Pairs whose source (no ``<eos>``) and target (with ``<eos>``) fit the limits."""
    return [(s, t) for s, t in pairs
            if 0 < len(src_tok.split(s)) <= max_source_len
            and 0 < len(tgt_tok.split(t)) + 1 <= max_target_len]
