"""Input/output helpers shared by the runtime commands (translate, classify)."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from edge_attn.runtime.errors import InputError

DEMO_MODEL = "dates-int8.eatt"
ARTIFACT_SUFFIX = ".eatt"
# An argument that is a number or a CSV row of numbers: "-1.5", "-2,3e-4,-.5".
_NUMBER_ROW = re.compile(r"-(\d|\.\d|inf|nan)[\w.+-]*(\s*,\s*[^,]*)*", re.IGNORECASE)
_ESCAPE = "\0"  # argv cannot contain NUL, so it marks an argument escaped below


class NumbersCommand(click.Command):
    """A command whose TEXT arguments may start with ``-`` when they are numbers.

    ``-1.5,2,3`` is a tabular row, not an option. Other arguments starting with ``-`` go
    after ``--`` (``edge-attn classify -m M -- "-x text"``).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {o for p in self.params if isinstance(p, click.Option) and not p.is_flag
                       for o in (*p.opts, *p.secondary_opts)}
        out: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                out += args[i:]
                break
            escape = _NUMBER_ROW.fullmatch(arg) and (not out or out[-1] not in takes_value)
            out.append(_ESCAPE + arg if escape else arg)
        return super().parse_args(ctx, out)


def unescape(args: Sequence[str]) -> list[str]:
    """The TEXT arguments as typed (undoes :class:`NumbersCommand`'s marking)."""
    return [a[len(_ESCAPE):] if a.startswith(_ESCAPE) else a for a in args]


def reject_model_paths(args: Sequence[str]) -> None:
    """InputError if a TEXT argument is a model file (``translate M.eatt "text"``)."""
    for arg in args:
        if arg.lower().endswith(ARTIFACT_SUFFIX) or (
                "\n" not in arg and len(arg) < 4096 and os.path.isfile(arg) and _is_zip(arg)):
            raise InputError(f"TEXT {arg!r} looks like a model file; give the model with "
                             f"-m/--model {arg} and the text after it")


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def default_model() -> str:
    """Path of the bundled demo artifact; InputError if it is not installed."""
    from importlib import resources

    res = resources.files("edge_attn.runtime").joinpath("models", DEMO_MODEL)
    if not res.is_file():
        raise InputError(f"no model given and the bundled demo model {DEMO_MODEL} is not "
                         "installed; pass -m/--model PATH")
    return str(res)


def input_lines(args: Sequence[str]) -> list[str]:
    """The texts to process: the arguments, else the non-blank lines of stdin (UTF-8).

    Raises:
        InputError: stdin is not valid UTF-8 (the message names the line), or no input.
    """
    if args:
        texts = unescape(args)
        reject_model_paths(texts)
        return texts
    data = click.get_binary_stream("stdin").read()
    texts = []
    for n, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"stdin line {n} is not valid UTF-8 "
                             f"(byte {exc.start}: {exc.reason})") from None
        if line.strip():
            texts.append(line.rstrip("\r\n"))
    if not texts:
        raise InputError("no input: give TEXT arguments or lines on stdin")
    return texts


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Print every warning raised inside as one ``warning: ...`` line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                if not issubclass(w.category, DeprecationWarning):
                    click.echo(f"warning: {w.message}", err=True)


def numbered(path: str, index: int, total: int) -> Path:
    """``path`` itself for one item, else ``stem-<index>.png`` next to it."""
    p = Path(path)
    return p if total == 1 else p.with_name(f"{p.stem}-{index}{p.suffix or '.png'}")
