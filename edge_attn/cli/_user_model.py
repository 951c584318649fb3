"""The ``edge-attn export MODEL.keras`` options: the user's own Keras model (issue 12).

Kept out of :mod:`.export` so the checkpoint form stays as it is: one decorator adds the
options, :func:`user_model_args` tells the two forms apart, :func:`export_user_file` calls
:func:`edge_attn.export.user_api.export_keras_file`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from edge_attn.runtime.constants import MODEL_KINDS
from edge_attn.runtime.errors import InputError

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none")
_OPTIONS = (
    click.option("--kind", type=click.Choice(MODEL_KINDS),
                 help="MODEL.keras: which kind of model it is (required for a .keras file)."),
    click.option("--custom-module", type=click.Path(dir_okay=False),
                 help="MODEL.keras: Python file defining the model's custom layers."),
    click.option("--attention-layer", help="MODEL.keras classifiers: the attention layer's "
                 "name (default: the one candidate)."),
    click.option("--source-vocab", type=click.Path(dir_okay=False),
                 help="MODEL.keras seq2seq: source tokens, one per line (line n = id n)."),
    click.option("--target-vocab", type=click.Path(dir_okay=False),
                 help="MODEL.keras seq2seq: target tokens, one per line."),
    click.option("--vocab", type=click.Path(dir_okay=False),
                 help="MODEL.keras text classifier: tokens, one per line."),
    click.option("--specials", help="MODEL.keras: the vocabulary's special tokens, e.g. "
                 "'pad=,unk=[UNK],bos=[start],eos=[end]' (default pad='', unk='[UNK]')."),
    click.option("--standardize", type=click.Choice(STANDARDIZE),
                 default="lower_and_strip_punctuation", show_default=True,
                 help="MODEL.keras: text standardization, as the TextVectorization used."),
    click.option("--split", type=click.Choice(("whitespace", "character")),
                 default="whitespace", show_default=True,
                 help="MODEL.keras: token split, as the TextVectorization used."),
    click.option("--padding", type=click.Choice(("post", "pre")), default="post",
                 show_default=True, help="MODEL.keras seq2seq or text classifier: the padding "
                 "side it was trained with (pad_sequences defaults to pre)."),
    click.option("--source-len", type=int, help="MODEL.keras: padded source length (default: "
                 "the model's input length)."),
    click.option("--max-target-len", type=int, help="MODEL.keras seq2seq: output limit."),
    click.option("--labels", help="MODEL.keras classifiers: class names in output order, "
                 "comma-separated."),
)
_DEFAULTS = {"standardize": "lower_and_strip_punctuation", "split": "whitespace",
             "padding": "post"}


def user_model_options(fn: Callable) -> Callable:
    """Add the MODEL.keras options to the export command."""
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn


def user_model_args(path: str, calibration_data: str | None,
                    user: dict[str, Any]) -> dict[str, Any] | None:
    """The MODEL.keras options, or None for a checkpoint directory.

    Raises:
        InputError: Options of the other form, or a .keras file without --kind /
            --calibration-data.
    """
    given = sorted(k for k, v in user.items() if v is not None and v != _DEFAULTS.get(k))
    if not Path(path).is_file():
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise InputError(f"{flags} apply to a MODEL.keras file; {path} is not a file")
        return None
    if user.get("kind") is None:
        raise InputError(f"{path} is a file: give --kind "
                         f"({'|'.join(MODEL_KINDS)}) to export your own Keras model")
    if calibration_data is None:
        raise InputError("exporting your own Keras model needs --calibration-data FILE "
                         "(real examples: calibration and validation)")
    return user


def export_user_file(path: str, out: str, quantize: str, calibration_data: str,
                     calibration_samples: int, force: bool, validate: bool,
                     progress: Callable[[str, int, int], None],
                     user: dict[str, Any]) -> dict[str, Any]:
    """Export MODEL.keras with the user options (see :func:`export_keras_file`)."""
    from edge_attn.export.user_api import export_keras_file

    return export_keras_file(path, out, calibration_data=calibration_data, quantize=quantize,
                             calibration_samples=calibration_samples, force=force,
                             validate=validate, progress=progress, **user)
