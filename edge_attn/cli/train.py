"""``edge-attn train``: fit a model and write a checkpoint directory."""

from __future__ import annotations

import click

from edge_attn.runtime import constants as C

from ._common import emit_json, quiet_tensorflow, require_tensorflow
from ._quiet import native_stderr

KINDS = C.MODEL_KINDS


@click.command("train")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--data", type=click.Path(dir_okay=False),
              help="TSV/CSV file (src⇥tgt or label⇥text).")
@click.option("--task", help="Built-in task: dates, numbers, date-lang, column.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Checkpoint dir.")
@click.option("--attention", default="additive", show_default=True, help="Attention score.")
@click.option("--cell", default="gru", show_default=True, help="gru or lstm.")
@click.option("--units", default=64, show_default=True, type=int)
@click.option("--embed-dim", default=32, show_default=True, type=int)
@click.option("--epochs", default=20, show_default=True, type=int)
@click.option("--batch-size", default=64, show_default=True, type=int)
@click.option("--max-len", default=16, show_default=True, type=int,
              help="Longest source/target in tokens; longer pairs are left out.")
@click.option("--examples", type=int, help="Generate/read this many examples.")
@click.option("--learning-rate", default=3e-3, show_default=True, type=float,
              help="Adam learning rate, reached linearly over the first epoch (warmup).")
@click.option("--patience", default=2, show_default=True, type=int, help="Early stopping.")
@click.option("--time-budget", "time_budget_minutes", type=float,
              help="Wall-clock minutes: no epoch starts that would end past it (seq2seq).")
@click.option("--tokenizer", default="word", show_default=True,
              type=click.Choice(["word", "sentencepiece"]))
@click.option("--case", default="auto", show_default=True,
              type=click.Choice(["auto", "keep", "lower"]),
              help="Letter case of the vocabularies: auto keeps case for sentencepiece "
                   "(cased output) and lowercases word vocabularies.")
@click.option("--max-vocab", type=int, help="Vocabulary cap (sentencepiece: its size).")
@click.option("--max-target-vocab", type=int,
              help="Target vocabulary cap (rarer words become <unk>; see --replace-unk).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Replace an existing checkpoint dir.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary only.")
def command(kind: str, as_json: bool, **kwargs) -> None:
    """Train KIND (seq2seq, text-classifier, tabular-classifier) on --data or --task."""
    require_tensorflow("train")
    quiet_tensorflow()
    import sys
    import warnings

    verbose = 0 if as_json else (1 if sys.stdout.isatty() else 2)
    with native_stderr(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from edge_attn.training import TrainOptions, train

        summary = train(TrainOptions(kind=kind, verbose=verbose, **kwargs))
    for w in caught:
        if "edge_attn" in type(w.message).__module__:
            click.echo(f"warning: {w.message}", err=True)
    if as_json:
        emit_json(summary)
        return
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in summary["metrics"].items())
    click.echo(f"trained {kind} on {summary['data']} in {summary['seconds']} s "
               f"({summary['epochs_run']} epochs, {summary['params']} parameters)")
    click.echo(f"{metrics}")
    click.echo(f"checkpoint: {summary['checkpoint']}")
