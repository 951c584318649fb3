"""Small helpers shared by the CLI commands."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import click

from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import EdgeAttnError

TRAIN_HINT = C.TRAIN_HINT


def require_tensorflow(command: str) -> None:
    """Fail with a pip hint when TensorFlow is not installed (base install)."""
    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
        raise EdgeAttnError(f"'edge-attn {command}' needs TensorFlow: {TRAIN_HINT}")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up chatter before it is imported."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
