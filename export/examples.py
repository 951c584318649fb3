"""Real examples for calibration and validation, encoded exactly as in training.

Each export spec (:mod:`.specs`) fills the fields of its kind; :func:`.specs.load_examples`
is the convenience entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Examples:
    """Encoded examples.

    Attributes:
        texts: Source texts (seq2seq / text) or "" (tabular).
        source: int32 [N, S] seq2seq sources.
        target_in: int32 [N, T] ``<bos>`` + target (seq2seq).
        target_out: int32 [N, T] target + ``<eos>`` (seq2seq).
        inputs: Classifier inputs, int32 [N, S] or float32 [N, F].
        labels: int32 [N] classifier labels.
        references: Reference target texts as stored (seq2seq; may be empty).
    """

    texts: list[str]
    source: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), "int32"))
    target_in: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), "int32"))
    target_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), "int32"))
    inputs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), "int32"))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), "int32"))
    references: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def head(self, n: int) -> Examples:
        """The first ``n`` examples."""
        cut = {k: getattr(self, k)[:n] for k in
               ("source", "target_in", "target_out", "inputs", "labels")}
        return replace(self, texts=self.texts[:n], references=self.references[:n], **cut)


def load_examples(ckpt: Any, path: str | None = None, split: str = "validation") -> Examples:
    """Held-out ``split`` examples of a checkpoint (or a user file), encoded as in training
    by the checkpoint's export spec (see :func:`.specs.load_examples`)."""
    from .specs import load_examples as from_spec

    return from_spec(ckpt, path, split)
