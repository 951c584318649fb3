"""Human-readable printing of an export validation report."""

from __future__ import annotations

from typing import Any

import click


def print_validation(report: dict[str, Any]) -> None:
    """One line per metric, the gate with the mode's limits and a verdict; the mode's speed
    note and the ops kept in float (also without validation)."""
    if not report or report.get("skipped"):
        click.echo("validation: skipped")
    else:
        verdict = "passed" if report.get("passed") else "FAILED"
        click.echo(f"validation ({report['mode']}, {report['examples']} held-out examples): "
                   f"{verdict}")
        for key, value in report.get("metrics", {}).items():
            click.echo(f"  {key.replace('_', ' '):28s} {value:.6g}")
        _print_gate(report)
        for line in report.get("mismatches", []):
            click.echo(f"  mismatch: {line}")
    if report and report.get("keep_float"):
        ops = ", ".join(f"{k}×{v}" for k, v in report.get("float_ops", {}).items())
        click.echo(f"kept in float ({', '.join(report['keep_float'])}): {ops}")
    if report and report.get("speed_note"):
        click.echo(f"note: {report['mode']} {report['speed_note']}")


_LABELS = {"bleu": "BLEU", "chrf": "chrF", "accuracy": "accuracy", "macro_f1": "macro-F1"}


def _print_gate(report: dict[str, Any]) -> None:
    if "gate" not in report:
        return
    click.echo(f"  gate: {report['gate']}" + (f" ({report['gate_reason']})"
                                              if report.get("gate_reason") else ""))
    for name, t in report.get("task_metrics", {}).items():
        click.echo(f"    Δ{_LABELS.get(name, name)} {t['delta']:+.4g} (Keras {t['keras']:.4g}, "
                   f"artifact {t['artifact']:.4g}; limit {t['min_delta']:+g})")
    if report.get("references"):
        click.echo(f"  references: {report['references']}")
