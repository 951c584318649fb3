"""``edge-attn export``: checkpoint → one validated, quantized TFLite artifact."""

from __future__ import annotations

import warnings
from typing import Any, TextIO

import click

from edge_attn.runtime.constants import QUANT_MODES

from ._common import emit_json, quiet_tensorflow, require_tensorflow
from ._quiet import native_stderr
from .report import print_validation


@click.command("export")
@click.argument("checkpoint_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Artifact file to write.")
@click.option("--quantize", type=click.Choice(QUANT_MODES), default="float32", show_default=True)
@click.option("--calibration-data", type=click.Path(dir_okay=False),
              help="TSV of real examples for int8/int16x8 (default: checkpoint's held-out).")
@click.option("--calibration-samples", type=int, default=200, show_default=True)
@click.option("--no-validate", is_flag=True, help="Skip the comparison with Keras (warns).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary only.")
def command(checkpoint_dir: str, out: str, quantize: str, calibration_data: str | None,
            calibration_samples: int, no_validate: bool, force: bool, as_json: bool) -> None:
    """Export CHECKPOINT_DIR (from `edge-attn train`) to an artifact file."""
    require_tensorflow("export")
    quiet_tensorflow()
    with native_stderr() as stderr:
        summary, warned = _run(checkpoint_dir, out, quantize, calibration_data,
                               calibration_samples, force, no_validate, as_json, stderr)
    for message in warned:
        click.echo(f"warning: {message}", err=True)
    if as_json:
        emit_json(summary)
        return
    click.echo(f"wrote {summary['artifact']} ({summary['kind']}, {summary['quantization']}, "
               f"{summary['file_bytes']:,} bytes, sha256 {summary['sha256'][:12]}…)")
    print_validation(summary["validation"])


def _run(checkpoint_dir: str, out: str, quantize: str, calibration_data: str | None,
         calibration_samples: int, force: bool, no_validate: bool, as_json: bool,
         stderr: TextIO) -> tuple[dict[str, Any], list[str]]:
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
            summary = export(checkpoint_dir, out, quantize, calibration_data,
                             calibration_samples, force, not no_validate, progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    return summary, [str(w.message) for w in caught
                     if "edge_attn" in type(w.message).__module__]
