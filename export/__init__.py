"""Export: trace → convert → quantize → validate → write one artifact (needs TensorFlow).

The user-model API is importable from here (lazily, nothing runs at import):
:func:`derive_seq2seq`, :func:`export_seq2seq`, :func:`tap_classifier`,
:func:`export_classifier`, :func:`export_keras_file`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"derive_seq2seq": "user_seq2seq", "export_seq2seq": "user_api",
         "tap_classifier": "user_classifier", "export_classifier": "user_api",
         "export_keras_file": "user_api"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
