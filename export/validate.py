"""Step 4 of export: run the converted model next to Keras and report every mismatch.

The spec (:mod:`.specs`) computes its kind's metrics on its fixed held-out examples through
the runtime's own session (same kernels, same delegate fallback as on the device); this
module gates them with the per-mode tolerance table of :mod:`export.quantization`:
max / mean |Δ| of the output probabilities, attention-argmax agreement and the spec's
agreement metric (greedy tokens or labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_attn.runtime.artifact import Artifact
from edge_attn.runtime.errors import ValidationError
from edge_attn.runtime.session import Session

from .quantization import QuantConfig


def diff(a: np.ndarray, b: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """Max and mean |a - b| (over the entries where ``weight`` is true, if given)."""
    d = np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))
    if weight is not None:
        d = d[weight.astype(bool)]
    return (float(d.max()), float(d.mean())) if d.size else (0.0, 0.0)


def validate(spec: Any, artifact: Artifact, session: Session, quant: QuantConfig,
             strict: bool = True) -> dict[str, Any]:
    """Compare the converted model with Keras; raise if out of tolerance.

    Args:
        spec: The model's :class:`~export.specs.ExportSpec`.
        artifact: The in-memory artifact (config + tokenizers + model bytes).
        session: The session running ``artifact``'s model (built once per export).
        quant: Mode and tolerance.
        strict: Raise on a mismatch (else only report it).

    Returns:
        The report: metrics, the tolerance used, ``examples`` and ``passed``.

    Raises:
        ValidationError: Listing every metric outside the tolerance (when ``strict``).
    """
    examples = spec.validation_examples()
    metrics = spec.metrics(artifact, session, examples)
    tol = quant.tolerance
    mismatches = []
    if metrics["max_abs_diff"] > tol.max_abs_diff:
        mismatches.append(f"max |Δ| {metrics['max_abs_diff']:.3g} > {tol.max_abs_diff}")
    if metrics["mean_abs_diff"] > tol.mean_abs_diff:
        mismatches.append(f"mean |Δ| {metrics['mean_abs_diff']:.3g} > {tol.mean_abs_diff}")
    for key in ("attention_argmax_agreement", spec.agreement):
        limit = getattr(tol, key)
        if metrics[key] < limit:
            mismatches.append(f"{key.replace('_', ' ')} {metrics[key]:.4f} < {limit}")
    report = {"mode": quant.mode.value, "examples": len(examples), "metrics": metrics,
              "tolerance": vars(tol), "passed": not mismatches, "mismatches": mismatches}
    if mismatches and strict:
        raise ValidationError(mismatches)
    return report
