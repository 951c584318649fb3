"""``edge-attn translate``: translate text with a seq2seq artifact (no TensorFlow needed)."""

from __future__ import annotations

import click

from edge_attn.runtime import constants as C
from edge_attn.runtime.backend import BACKENDS

from ._common import emit_json
from ._quiet import native_stderr
from ._runtime_io import NumbersCommand, default_model, input_lines, numbered, warnings_as_lines

ATTENTION_MODES = C.ATTENTION_MODES


@click.command("translate", cls=NumbersCommand)
@click.argument("text", nargs=-1)
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False),
              help="Artifact (.eatt); default: the bundled demo model.")
@click.option("--beam", type=click.IntRange(1, C.MAX_BEAM), default=1, show_default=True,
              help=f"Beam width (1 = greedy; at most {C.MAX_BEAM}).")
@click.option("--max-len", type=click.IntRange(1, C.MAX_DECODE_LEN), default=None,
              help="Maximum output tokens [default: the model's max_target_len; "
                   f"at most {C.MAX_DECODE_LEN}].")
@click.option("--min-len", type=click.IntRange(0), default=0, show_default=True,
              help="Output tokens before which <eos> may not be chosen.")
@click.option("--length-penalty", type=click.FloatRange(0.0), default=0.6, show_default=True,
              help="GNMT length penalty alpha for ranking beams (0 = raw log prob).")
@click.option("--attention", "attention_mode", type=click.Choice(ATTENTION_MODES),
              default="soft", show_default=True, help="Decode-time attention.")
@click.option("--replace-unk", is_flag=True, help="Copy the most-attended source word for <unk>.")
@click.option("--show-attention", is_flag=True, help="Print an attention heatmap per sentence.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Write the attention as a PNG (several sentences: FILE-1.png, ...).")
@click.option("--threads", type=click.IntRange(1), default=None, help="Interpreter threads.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Interpreter backend [default: $EDGE_ATTN_BACKEND or auto].")
@click.option("--no-shortlist", is_flag=True,
              help="Score the full target vocabulary even if the model has a shortlist.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per sentence).")
def command(text: tuple[str, ...], model_path: str | None, beam: int, max_len: int | None,
            min_len: int, length_penalty: float, attention_mode: str, replace_unk: bool,
            show_attention: bool, plot: str | None, threads: int | None, backend: str | None,
            no_shortlist: bool, as_json: bool) -> None:
    """Translate TEXT (or each non-blank line of stdin).

    Sources longer than the model's fixed length are truncated with a warning. The model
    is given with -m (a TEXT that is a model file is an error); TEXT starting with "-" goes
    after "--" (numbers such as "-5" work anywhere).
    """
    from edge_attn.runtime.heatmap import plot_attention, render_heatmap
    from edge_attn.runtime.translator import Translator

    texts = input_lines(text)
    with native_stderr():
        translator = Translator(model_path or default_model(), num_threads=threads,
                                backend=backend)
    with warnings_as_lines():
        results = translator.translate(texts, beam=beam, max_len=max_len,
                                       length_penalty=length_penalty,
                                       attention_mode=attention_mode, replace_unk=replace_unk,
                                       min_len=min_len,
                                       shortlist=False if no_shortlist else None)
    if plot:
        for i, r in enumerate(results, start=1):
            plot_attention(r.attention, r.source_tokens, r.tokens, numbered(plot, i, len(results)),
                           title=r.source)
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    for r in results:
        click.echo(r.text)
        if show_attention:
            click.echo(render_heatmap(r.attention, r.source_tokens, r.tokens))
