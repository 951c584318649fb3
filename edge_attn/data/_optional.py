"""Lazy imports of the optional data dependencies, with a pip hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import InputError

TRAIN_HINT = C.TRAIN_HINT


def require(module: str) -> ModuleType:
    """Import ``module`` or raise InputError naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{module} is needed for this data task: {TRAIN_HINT}") from None
