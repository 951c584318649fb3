"""``edge-attn profile``: latency, size and memory of artifacts, side by side (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import click

from edge_attn.runtime.backend import BACKENDS

from ._common import emit_json
from ._quiet import native_stderr

_BAR_UNITS = 1000  # progress-bar units per model


def _advance(bar, label: str):
    """A ``progress(done, total)`` moving ``bar`` by this model's share of units."""
    shown = [0]

    def progress(done: int, total: int) -> None:
        units = _BAR_UNITS * done // max(total, 1)
        bar.update(units - shown[0], current_item=label)
        shown[0] = units

    return progress


@click.command("profile")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--runs", type=click.IntRange(1), default=100, show_default=True,
              help="Timed calls per signature (greedy sentences: runs/4).")
@click.option("--warmup", type=click.IntRange(0), default=10, show_default=True,
              help="Untimed calls before timing.")
@click.option("--threads", type=click.IntRange(1), default=None, help="Interpreter threads.")
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True,
              help="Rows per call.")
@click.option("--src-len", type=click.IntRange(1), default=None,
              help="Real source tokens per row [default: the model's fixed length].")
@click.option("--tgt-len", type=click.IntRange(1), default=None,
              help="Decoded tokens per greedy sentence, <eos> suppressed "
                   "[default: the model's max_target_len].")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Interpreter backend [default: $EDGE_ATTN_BACKEND or auto].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (machine, models, comparison).")
def command(models: tuple[str, ...], runs: int, warmup: int, threads: int | None, batch: int,
            src_len: int | None, tgt_len: int | None, backend: str | None,
            as_json: bool) -> None:
    """Profile each MODEL on synthetic inputs; several models give one table with ratios to
    the first (latency ×, size ×)."""
    from edge_attn.runtime.errors import ArtifactError
    from edge_attn.runtime.profile import compare, machine_info, profile_model, render_table

    for m in models:  # fail before any work (and before the progress bar)
        if not Path(m).is_file():
            raise ArtifactError(f"{m}: no such artifact file")
    options = dict(runs=runs, warmup=warmup, threads=threads, batch=batch, src_len=src_len,
                   tgt_len=tgt_len, backend=backend)
    results = []
    with native_stderr() as stderr:
        if as_json:
            results = [profile_model(m, **options) for m in models]
        else:
            with click.progressbar(length=_BAR_UNITS * len(models), label="profiling",
                                   file=stderr) as bar:
                for m in models:
                    results.append(profile_model(m, progress=_advance(bar, m), **options))
    rows = compare(results)
    if as_json:
        emit_json({"machine": machine_info(), "options": options, "models": results,
                   "comparison": rows})
        return
    click.echo(render_table(results, rows))
