"""Fidelity per quantization mode on held-out test data: BLEU (seq2seq), accuracy/F1 (text).

The runtime (ai-edge-litert, in this process) translates / classifies the checkpoint's
held-out test split with every artifact; the Keras model gives the reference row. BLEU is
``sacrebleu.corpus_bleu`` of the detokenized runtime outputs against the reference target
strings as they are in the data (``bleu``; ``lowercase=True`` because the tokenizer
lowercases), and against the references in the tokenizer's own normal form (``bleu_norm``:
NFKC, lowercase, the word detokenizer's spacing — e.g. no space before ``!``), which is what
the model can produce at best.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def _heldout(ckpt: Path, limit: int | None) -> list[list[str]]:
    rows = json.loads((ckpt / "heldout.json").read_text(encoding="utf-8"))["test"]
    return rows[:limit] if limit else rows


def _bleu(hyps: list[str], refs: list[str], norm_refs: list[str]) -> dict[str, float]:
    import sacrebleu

    return {"bleu": sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score,
            "bleu_norm": sacrebleu.corpus_bleu(hyps, [norm_refs]).score,
            "exact": float(np.mean([h == r for h, r in zip(hyps, norm_refs)]))}


def _keras_translations(ckpt: Path, sources: list[str]) -> list[str]:
    from edge_attn.data.prepare import pad
    from edge_attn.models.greedy import keras_greedy
    from edge_attn.training.checkpoint import load_checkpoint

    ck = load_checkpoint(ckpt)
    src, tgt, s_len = ck.tokenizers["source"], ck.tokenizers["target"], \
        ck.config["max_source_len"]
    ids, _ = keras_greedy(ck.model, pad([src.encode(t, add_eos=False, max_len=s_len)
                                         for t in sources], s_len))
    return [tgt.decode(row) for row in ids]


def seq2seq(ckpt: Path, artifacts: dict[str, Path], threads: int, limit: int | None = None,
            keras: bool = True) -> dict[str, Any]:
    """BLEU per mode (and Keras), its delta to float32, and agreement with float32's ids."""
    from edge_attn.runtime import Translator
    from edge_attn.runtime.tokenizer import detokenize_words

    rows = _heldout(ckpt, limit)
    sources, refs = [r[0] for r in rows], [r[1] for r in rows]
    out: dict[str, Any] = {"sentences": len(rows), "modes": {}}
    ids: dict[str, list[list[int]]] = {}
    texts: dict[str, list[str]] = {}
    for mode, path in artifacts.items():
        tr = Translator(path, num_threads=threads, backend="ai-edge-litert")
        norm = [detokenize_words(tr.target_tokenizer.split(r)) for r in refs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = tr.translate(sources, batch_size=64)
        ids[mode] = [r.ids for r in res]
        texts[mode] = [r.text for r in res]
        out["modes"][mode] = _bleu([r.text for r in res], refs, norm)
        out["examples"] = [{"source": s, "reference": r, "float32": h.text} for s, r, h in
                           zip(sources[:3], refs[:3], res[:3])] if mode == "float32" \
            else out.get("examples")
    keras_text = _keras_translations(ckpt, sources) if keras else None
    if keras_text is not None:
        out["keras"] = _bleu(keras_text, refs, norm)
    base = out["modes"].get("float32")
    for mode, m in out["modes"].items():
        if keras_text is not None:
            m["same_text_as_keras"] = float(np.mean([a == b for a, b in
                                                     zip(texts[mode], keras_text)]))
        if base:
            m["delta_bleu"] = m["bleu"] - base["bleu"]
            m["same_ids_as_float32"] = float(np.mean([a == b for a, b in
                                                      zip(ids[mode], ids["float32"])]))
    return out


def _f1(pred: np.ndarray, gold: np.ndarray, positive: int) -> float:
    tp = float(np.sum((pred == positive) & (gold == positive)))
    fp = float(np.sum((pred == positive) & (gold != positive)))
    fn = float(np.sum((pred != positive) & (gold == positive)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def classifier(ckpt: Path, artifacts: dict[str, Path], threads: int,
               positive: str = "spam", keras: bool = True) -> dict[str, Any]:
    """Accuracy and F1 (``positive`` class) per mode and for Keras, on the test split."""
    from edge_attn.runtime import TextClassifier

    rows = _heldout(ckpt, None)
    labels = json.loads((ckpt / "config.json").read_text())["labels"]
    gold = np.array([labels.index(r[0]) for r in rows])
    pos = labels.index(positive) if positive in labels else 1
    out: dict[str, Any] = {"examples": len(rows), "positive": labels[pos], "modes": {}}
    for mode, path in artifacts.items():
        clf = TextClassifier(path, num_threads=threads, backend="ai-edge-litert")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            preds = np.array([labels.index(p.label) for p in clf.predict([r[1] for r in rows])])
        out["modes"][mode] = {"accuracy": float(np.mean(preds == gold)),
                              "f1": _f1(preds, gold, pos)}
    if keras:
        from edge_attn.export.examples import load_examples
        from edge_attn.training.checkpoint import load_checkpoint

        ck = load_checkpoint(ckpt)
        ex = load_examples(ck, None, "test")
        probs = np.asarray(ck.model.classify(ex.inputs)[0])
        preds = probs.argmax(-1)
        out["keras"] = {"accuracy": float(np.mean(preds == ex.labels)),
                        "f1": _f1(preds, ex.labels, pos)}
    base = out["modes"].get("float32")
    for m in out["modes"].values():
        if base:
            m["delta_accuracy"] = m["accuracy"] - base["accuracy"]
            m["delta_f1"] = m["f1"] - base["f1"]
    return out
