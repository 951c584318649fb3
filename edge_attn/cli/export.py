"""``edge-attn export``: checkpoint → one validated, quantized TFLite artifact."""

from __future__ import annotations

import warnings
from typing import Any, TextIO

import click

from edge_attn.runtime.constants import QUANT_MODES

from ._common import emit_json, quiet_tensorflow, require_tensorflow
from ._quiet import native_stderr
from ._user_model import export_user_file, user_model_args, user_model_options
from .report import print_validation


@click.command("export")
@click.argument("checkpoint_dir", metavar="CHECKPOINT_DIR|MODEL.keras", type=click.Path())
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Artifact file to write.")
@click.option("--quantize", type=click.Choice(QUANT_MODES), default="float32", show_default=True)
@click.option("--calibration-data", type=click.Path(dir_okay=False),
              help="TSV of real examples for int8/int16x8 (default: checkpoint's held-out).")
@click.option("--calibration-samples", type=int, default=200, show_default=True)
@click.option("--no-validate", is_flag=True, help="Skip the comparison with Keras (warns).")
@click.option("--shortlist-data", type=click.Path(dir_okay=False, exists=True),
              help="src⇥tgt training pairs: learn a vocabulary shortlist (seq2seq; the decode "
                   "step then scores only each sentence's candidates).")
@click.option("--shortlist-size", default="512,24", show_default=True, metavar="F,K",
              help="With --shortlist-data: F most frequent target tokens plus K per source "
                   "token (smaller: a faster step, more translations changed).")
@click.option("--encoder-loop", type=click.Choice(["while", "unrolled"]), default="while",
              show_default=True,
              help="Encoder recurrence as one WHILE loop (smaller) or unrolled (faster).")
@click.option("--keep-float", default="", metavar="PARTS",
              help="With --quantize int8: keep these parts in float, comma-separated: "
                   "attention, output, or TFLite op types (e.g. SOFTMAX).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary only.")
@user_model_options
def command(checkpoint_dir: str, out: str, quantize: str, calibration_data: str | None,
            calibration_samples: int, no_validate: bool, shortlist_data: str | None,
            shortlist_size: str, encoder_loop: str, keep_float: str, force: bool,
            as_json: bool, **user: Any) -> None:
    """Export CHECKPOINT_DIR (from `edge-attn train`) or your own MODEL.keras (with --kind,
    vocabularies and --calibration-data; see README "Bring your own Keras model") to an
    artifact file."""
    require_tensorflow("export")
    quiet_tensorflow()
    user = user_model_args(checkpoint_dir, calibration_data, user)
    extra = {"shortlist_data": shortlist_data, "encoder_loop": encoder_loop,
             "keep_float": keep_float, "shortlist_size": _pair(shortlist_size)}
    if user is not None and keep_float:
        raise click.UsageError("--keep-float applies to checkpoints of `edge-attn train`")
    if user is not None and (shortlist_data or encoder_loop != "while"):
        raise click.UsageError("--shortlist-data and --encoder-loop apply to checkpoints of "
                               "`edge-attn train`")
    with native_stderr() as stderr:
        summary, warned = _run(checkpoint_dir, out, quantize, calibration_data,
                               calibration_samples, force, no_validate, as_json, stderr, user,
                               extra)
    for message in warned:
        click.echo(f"warning: {message}", err=True)
    if as_json:
        emit_json(summary)
        return
    click.echo(f"wrote {summary['artifact']} ({summary['kind']}, {summary['quantization']}, "
               f"{summary['file_bytes']:,} bytes, sha256 {summary['sha256'][:12]}…)")
    print_validation(summary["validation"])


def _pair(text: str) -> tuple[int, int]:
    """``F,K`` as two positive integers (a click usage error otherwise)."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise click.BadParameter(f"expected two positive integers F,K, got {text!r}",
                                 param_hint="--shortlist-size")
    return int(parts[0]), int(parts[1])


def _run(checkpoint_dir: str, out: str, quantize: str, calibration_data: str | None,
         calibration_samples: int, force: bool, no_validate: bool, as_json: bool,
         stderr: TextIO, user: dict[str, Any] | None = None,
         extra: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The export's summary and edge-attn's warnings; a progress bar on ``stderr``."""
    from edge_attn.export.pipeline import export

    bar = None

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if as_json:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=stage, file=stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if user is not None:  # a MODEL.keras file (see _user_model.py)
                summary = export_user_file(checkpoint_dir, out, quantize, calibration_data,
                                           calibration_samples, force, not no_validate,
                                           progress, user)
            else:
                summary = export(checkpoint_dir, out, quantize, calibration_data,
                                 calibration_samples, force, not no_validate, progress,
                                 **(extra or {}))
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    return summary, [str(w.message) for w in caught
                     if "edge_attn" in type(w.message).__module__]
