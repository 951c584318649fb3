"""Step 4 of export: run the converted model next to Keras and report every mismatch.

The spec (:mod:`.specs`) computes its kind's metrics on its fixed held-out examples through
the runtime's own session (same kernels, same delegate fallback as on the device); this
module gates them with the per-mode tolerance table of :mod:`export.quantization` on the
task metric (:mod:`.task_metrics`): ΔBLEU / ΔchrF of greedy translations, Δaccuracy /
Δmacro-F1 of labels, artifact minus Keras, both against the references. Max / mean |Δ| of
the output probabilities, attention-argmax agreement and greedy token / label agreement are
reported; they gate float32 only (which must reproduce Keras).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_attn.runtime.artifact import Artifact
from edge_attn.runtime.errors import ValidationError
from edge_attn.runtime.session import Session

from .quantization import QuantConfig, Tolerance
from .task_metrics import MIN_BLEU, MIN_EXAMPLES


def diff(a: np.ndarray, b: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """Max and mean |a - b| (over the entries where ``weight`` is true, if given)."""
    d = np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))
    if weight is not None:
        d = d[weight.astype(bool)]
    return (float(d.max()), float(d.mean())) if d.size else (0.0, 0.0)


def validate(spec: Any, artifact: Artifact, session: Session, quant: QuantConfig,
             strict: bool = True) -> dict[str, Any]:
    """Compare the converted model with Keras on the task metric; raise if out of tolerance.

    Args:
        spec: The model's :class:`~export.specs.ExportSpec`.
        artifact: The in-memory artifact (config + tokenizers + model bytes).
        session: The session running ``artifact``'s model (built once per export).
        quant: Mode and tolerance.
        strict: Raise on a mismatch (else only report it).

    Returns:
        The report: ``metrics`` (every figure), the ``tolerance`` used, ``examples``,
        ``gate`` / ``gate_reason`` / ``metric`` / ``task_metrics`` (see :func:`gate`),
        ``passed`` and ``mismatches``.

    Raises:
        ValidationError: Listing every metric outside the tolerance (when ``strict``).
    """
    examples = spec.validation_examples()
    metrics = dict(spec.metrics(artifact, session, examples))
    lowered = metrics.pop("references_lowercased", None)
    verdict = gate(metrics, quant.tolerance, len(examples), spec.agreement)
    report = {"mode": quant.mode.value, "examples": len(examples), "metrics": metrics,
              "tolerance": vars(quant.tolerance), **verdict,
              "passed": not verdict["mismatches"]}
    if lowered is not None:
        report["references"] = ("lowercased: the target tokenizer lowercases, so references "
                                "are compared lowercased" if lowered else "cased")
    if verdict["mismatches"] and strict:
        raise ValidationError(verdict["mismatches"])
    return report


def _below(value: float, limit: float) -> bool:
    return value < limit - 1e-9  # deltas are rounded; a tie is a pass


def gate(metrics: dict[str, float], tol: Tolerance, examples: int,
         agreement: str) -> dict[str, Any]:
    """Judge ``metrics`` against ``tol``: the task metric's delta (artifact − Keras).

    Seq2seq (``keras_bleu`` present): ΔBLEU and ΔchrF; when BLEU is unstable (Keras BLEU
    < :data:`MIN_BLEU` or fewer than :data:`MIN_EXAMPLES` examples) ΔchrF and sentence
    agreement instead. Classifiers (``keras_accuracy``): Δaccuracy and Δmacro-F1. ``exact``
    tolerances (float32) also require ``agreement`` (token / label) = 1 and the
    probability / attention limits; otherwise those figures are only reported.

    Returns:
        ``gate`` (``bleu`` / ``chrf`` / ``accuracy`` / ``agreement``), ``gate_reason`` (why
        not BLEU, or None), ``metric`` (the gating metric's name), ``task_metrics``
        ({name: {keras, artifact, delta, min_delta}}) and ``mismatches``.
    """
    mismatches: list[str] = []
    reason = None
    if "keras_bleu" in metrics:
        checked = [("bleu", tol.bleu_delta), ("chrf", tol.chrf_delta)]
        if metrics["keras_bleu"] < MIN_BLEU or examples < MIN_EXAMPLES:
            why = (f"Keras BLEU {metrics['keras_bleu']:.2f} < {MIN_BLEU:g}"
                   if metrics["keras_bleu"] < MIN_BLEU else
                   f"{examples} examples < {MIN_EXAMPLES}")
            reason = f"{why}: BLEU is unstable, judged on chrF and sentence agreement"
            checked = checked[1:]
            if _below(metrics["sentence_agreement"], tol.sentence_agreement):
                mismatches.append(f"sentence agreement {metrics['sentence_agreement']:.4f} "
                                  f"< {tol.sentence_agreement}")
    elif "keras_accuracy" in metrics:
        checked = [("accuracy", tol.accuracy_delta), ("macro_f1", tol.f1_delta)]
    else:  # a spec without a task metric: its agreement figure is all there is
        checked, reason = [], "no task metric reported: judged on agreement"
        if _below(metrics[agreement], tol.sentence_agreement):
            mismatches.append(f"{agreement.replace('_', ' ')} {metrics[agreement]:.4f} "
                              f"< {tol.sentence_agreement}")
    task = {}
    for name, limit in checked:
        delta = metrics[f"{name}_delta"]
        task[name] = {"keras": metrics[f"keras_{name}"], "artifact": metrics[f"tflite_{name}"],
                      "delta": delta, "min_delta": limit}
        if _below(delta, limit):
            mismatches.append(f"Δ{_LABEL[name]} {delta:+.4g} < {limit:+g} (Keras "
                              f"{metrics[f'keras_{name}']:.4g}, artifact "
                              f"{metrics[f'tflite_{name}']:.4g})")
    if tol.exact:
        mismatches.extend(_exact(metrics, tol, agreement))
    name = checked[0][0] if checked else agreement
    return {"gate": name if name in ("bleu", "chrf", "accuracy") else "agreement",
            "gate_reason": reason, "metric": name, "task_metrics": task,
            "mismatches": mismatches}


_LABEL = {"bleu": "BLEU", "chrf": "chrF", "accuracy": "accuracy", "macro_f1": "macro-F1"}


def _exact(metrics: dict[str, float], tol: Tolerance, agreement: str) -> list[str]:
    """float32: identical tokens / labels, probabilities to float rounding."""
    out = []
    if metrics["max_abs_diff"] > tol.max_abs_diff:
        out.append(f"max |Δ| {metrics['max_abs_diff']:.3g} > {tol.max_abs_diff}")
    if metrics["mean_abs_diff"] > tol.mean_abs_diff:
        out.append(f"mean |Δ| {metrics['mean_abs_diff']:.3g} > {tol.mean_abs_diff}")
    for key, limit in (("attention_argmax_agreement", tol.attention_argmax_agreement),
                       (agreement, 1.0)):
        if metrics[key] < limit:
            out.append(f"{key.replace('_', ' ')} {metrics[key]:.4f} < {limit}")
    return out
