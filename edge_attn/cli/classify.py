"""``edge-attn classify``: classify texts or CSV rows with a classifier artifact."""

from __future__ import annotations

import click

from edge_attn.runtime.backend import BACKENDS

from ._common import emit_json
from ._quiet import native_stderr
from ._runtime_io import NumbersCommand, input_lines, warnings_as_lines


@click.command("classify", cls=NumbersCommand)
@click.argument("text", nargs=-1)
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False), required=True,
              help="Classifier artifact (.eatt).")
@click.option("--show-attention", is_flag=True, help="Print the attention over tokens/columns.")
@click.option("--threads", type=click.IntRange(1), default=None, help="Interpreter threads.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Interpreter backend [default: $EDGE_ATTN_BACKEND or auto].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per input).")
def command(text: tuple[str, ...], model_path: str, show_attention: bool, threads: int | None,
            backend: str | None, as_json: bool) -> None:
    """Classify TEXT (or each non-blank line of stdin).

    For a tabular model every TEXT is one CSV row of numbers (float32: finite, at most
    about 3.4e38 in magnitude); rows starting with a negative number need no quoting tricks
    ("-1.5,2,..."). Other TEXT starting with "-" goes after "--".
    """
    from edge_attn.runtime.classifier import load_classifier
    from edge_attn.runtime.heatmap import shade

    inputs = input_lines(text)
    with native_stderr():
        model = load_classifier(model_path, num_threads=threads, backend=backend)
    with warnings_as_lines():
        predictions = model.predict(inputs)
    if as_json:
        emit_json([p.to_dict() for p in predictions])
        return
    for p in predictions:
        click.echo(f"{p.label}\t{p.probs[p.label]:.3f}")
        if show_attention:
            click.echo("  " + "  ".join(f"{shade(float(a))}{t}:{a:.2f}"
                                        for t, a in zip(p.tokens, p.attention)))
