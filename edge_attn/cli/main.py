"""The click group and the error boundary of the CLI.

Subcommands are imported on first use, so ``edge-attn translate`` never pays for the
training or export modules (cold start on a Pi matters).
"""

from __future__ import annotations

import importlib
import sys

import click

from edge_attn import __version__
from edge_attn.runtime.errors import EdgeAttnError

from ._quiet import quiet_environment

# command name -> module in edge_attn.cli exposing ``command``
COMMANDS = {"train": "train", "export": "export", "inspect": "inspect",
            "translate": "translate", "classify": "classify", "profile": "profile"}


class _Group(click.Group):
    """Lazy subcommands; edge-attn errors become one line and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(f"{__package__}.{COMMANDS[name]}").command

    def invoke(self, ctx: click.Context):  # noqa: D102
        try:
            return super().invoke(ctx)
        except EdgeAttnError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: one line, the traceback only with --verbose
            if (ctx.obj or {}).get("verbose"):
                raise
            detail = " ".join(str(exc).split())[:300]
            click.echo(f"error: unexpected {type(exc).__name__}: {detail} (a bug in edge-attn; "
                       "rerun with --verbose for the traceback and report it)", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edge-attn")
@click.option("-v", "--verbose", is_flag=True,
              help="Also show TensorFlow's and LiteRT's own log lines.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """edge-attn: train attention models, export them to quantized TFLite, run them on
    small ARM devices with numpy + LiteRT."""
    ctx.obj = {"verbose": verbose}
    if not verbose:
        quiet_environment()
