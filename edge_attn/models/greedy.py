"""Greedy decoding of a Keras :class:`Seq2Seq` with its own step loop (the reference the
exported artifact is compared against)."""

from __future__ import annotations

import numpy as np

from edge_attn.runtime.decoder import source_mask
from edge_attn.runtime.tokenizer import WordTokenizer


def keras_greedy(model, source: np.ndarray, max_steps: int | None = None,
                 batch_size: int = 512) -> tuple[list[list[int]], list[np.ndarray]]:
    """Greedy-decode padded sources with the Keras model.

    Args:
        model: A built :class:`edge_attn.models.seq2seq.Seq2Seq`.
        source: int32 [N, S] padded source ids.
        max_steps: Output length limit (default: the model's ``max_target_len``).
        batch_size: Sentences per encoder call.

    Returns:
        ``(ids, attention)``: per sentence the output ids up to and excluding ``<eos>``,
        and its attention matrix [T_out, S] (rows for emitted tokens, ``<eos>`` included).
    """
    max_steps = max_steps or model.hp["max_target_len"]
    all_ids: list[list[int]] = []
    all_att: list[np.ndarray] = []
    for start in range(0, len(source), batch_size):
        src = source[start:start + batch_size]
        mask = source_mask(src, WordTokenizer.PAD_ID)
        memory, keys, states = model.encode(src, mask)
        token = np.full((len(src),), WordTokenizer.BOS_ID, dtype="int32")
        steps, atts = [], []
        for _ in range(max_steps):
            logits, states, att = model.step(token, states, memory, keys, mask)
            token = np.asarray(logits).argmax(-1).astype("int32")
            steps.append(token)
            atts.append(np.asarray(att))
        steps_arr, att_arr = np.stack(steps, 1), np.stack(atts, 1)
        for row, att in zip(steps_arr, att_arr):
            ids = row.tolist()
            n = ids.index(WordTokenizer.EOS_ID) if WordTokenizer.EOS_ID in ids else len(ids)
            all_ids.append(ids[:n])
            all_att.append(att[: min(n + 1, len(ids))])
    return all_ids, all_att


def exact_match(predicted: list[list[int]], target_out: np.ndarray) -> float:
    """Share of sentences whose ids equal the reference up to ``<eos>``."""
    hits = 0
    for pred, ref in zip(predicted, target_out.tolist()):
        n = ref.index(WordTokenizer.EOS_ID) if WordTokenizer.EOS_ID in ref else len(ref)
        hits += pred == ref[:n]
    return hits / max(len(predicted), 1)
