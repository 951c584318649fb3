"""Task metrics of validation: what a user of the model cares about, Keras vs the artifact.

Seq2seq: corpus BLEU and chrF (sacrebleu, its default ``13a`` tokenizer, cased references
unless the target tokenizer lowercases) of both greedy outputs against the held-out
references. Classifiers: accuracy and macro-F1 of both predictions against the true labels.
The gate (:mod:`.validate`) judges the deltas ``artifact − Keras``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edge_attn.runtime.errors import ExportError

# Below these, corpus BLEU moves by whole points with a handful of sentences: the gate uses
# chrF (character n-grams, stable on short/weak output) and sentence agreement instead.
MIN_BLEU = 5.0
MIN_EXAMPLES = 50


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:
        raise ExportError("validation of seq2seq models needs sacrebleu: "
                          "pip install 'edge-attn[train]' (or pip install 'sacrebleu>=2.4')"
                          ) from None
    return sacrebleu


def lowercases(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` lowercases its text (its output can only be lowercase)."""
    if getattr(tokenizer, "lowercase", False):
        return True
    return "lower" in str(getattr(tokenizer, "standardize", "") or "")


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU and chrF of ``hypotheses`` against one reference each (sacrebleu
    defaults)."""
    sb = _sacrebleu()
    hyp, refs = list(hypotheses), [list(references)]
    return {"bleu": float(sb.corpus_bleu(hyp, refs).score),
            "chrf": float(sb.corpus_chrf(hyp, refs).score)}


def seq2seq_scores(keras: Sequence[str], artifact: Sequence[str], references: Sequence[str],
                   lowercase: bool) -> dict[str, float]:
    """``keras_bleu``, ``tflite_bleu``, ``bleu_delta`` and the same for chrF.

    Args:
        keras: The Keras model's greedy output texts.
        artifact: The artifact's greedy output texts (same order).
        references: The held-out target strings.
        lowercase: Compare lowercased references (the target tokenizer lowercases, so the
            outputs cannot carry case).
    """
    refs = [r.lower() for r in references] if lowercase else list(references)
    k, a = corpus_scores(keras, refs), corpus_scores(artifact, refs)
    out: dict[str, float] = {}
    for name in ("bleu", "chrf"):
        out[f"keras_{name}"] = round(k[name], 4)
        out[f"tflite_{name}"] = round(a[name], 4)
        out[f"{name}_delta"] = round(a[name] - k[name], 4)
    return out


def macro_f1(predicted: np.ndarray, labels: np.ndarray, classes: int) -> float:
    """Unweighted mean over ``classes`` of per-class F1 (a class absent from both the labels
    and the predictions is left out)."""
    scores = []
    for c in range(classes):
        tp = int(((predicted == c) & (labels == c)).sum())
        fp = int(((predicted == c) & (labels != c)).sum())
        fn = int(((predicted != c) & (labels == c)).sum())
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def classifier_scores(keras: np.ndarray, artifact: np.ndarray, labels: np.ndarray,
                      classes: int) -> dict[str, float]:
    """Accuracy and macro-F1 of both predictions against ``labels``, and the deltas."""
    out: dict[str, float] = {}
    for name, fn in (("accuracy", lambda p: float((p == labels).mean()) if len(p) else 0.0),
                     ("macro_f1", lambda p: macro_f1(p, labels, classes))):
        k, a = fn(np.asarray(keras)), fn(np.asarray(artifact))
        out[f"keras_{name}"], out[f"tflite_{name}"] = k, a
        out[f"{name}_delta"] = round(a - k, 6)
    return out
