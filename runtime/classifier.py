"""Text and tabular classifiers with attention, run with a LiteRT interpreter.

Both call the artifact's ``classify`` signature: ``classify(inputs) -> probs f32[B,C],
attention f32[B,S or F]``. Text inputs are token ids int32[B,S] right-padded with 0 (the
model derives its mask); texts longer than S are truncated with a
:class:`~edge_attn.runtime.model.TruncationWarning`. Tabular inputs are float32[B,F] rows,
given as sequences of numbers or CSV lines.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import constants as C
from .decoder import pad_sources
from .errors import InputError
from .model import ArtifactLike, LoadedModel, as_artifact, encode_source


@dataclass
class Prediction:
    """One classified input.

    Attributes:
        label: The most probable class name.
        probs: Class name → probability (all classes, model order).
        attention: f32[S_real] over the real tokens (text) or f32[F] over columns (tabular).
        tokens: The tokens (text) or feature names (tabular) the attention refers to.
        source: The input as given (text, or the row as floats).
    """

    label: str
    probs: dict[str, float]
    attention: np.ndarray
    tokens: list[str]
    source: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"source": self.source, "label": self.label, "probs": self.probs,
                "tokens": self.tokens,
                "attention": np.round(self.attention.astype(float), 6).tolist()}


class _Classifier(LoadedModel):
    """Shared contract check and output handling of both classifiers."""

    def _check_classify(self) -> tuple[int, ...]:
        sig = self._signature(C.CLASSIFY, [C.CLS_INPUTS], [C.CLS_PROBS, C.CLS_ATTENTION])
        labels = self.config.classifier.labels
        width = sig.outputs[C.CLS_PROBS].shape[-1]
        if len(labels) != width:
            raise self._fail(f"config 'classifier.labels' must list {width} class names, "
                             f"got {list(labels)!r}")
        self.labels = list(labels)
        return sig.inputs[C.CLS_INPUTS].shape

    def _run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.session.run(C.CLASSIFY, {C.CLS_INPUTS: inputs})
        return out[C.CLS_PROBS], out[C.CLS_ATTENTION]

    def _prediction(self, probs: np.ndarray, att: np.ndarray, tokens: list[str],
                    source: Any) -> Prediction:
        return Prediction(self.labels[int(np.argmax(probs))],
                          {lab: float(p) for lab, p in zip(self.labels, probs)},
                          np.asarray(att, np.float32), tokens, source)


class TextClassifier(_Classifier):
    """Classify texts; the attention says which tokens decided (HAN pooling weights).

    Args:
        artifact: Artifact path, bytes or Artifact of kind ``text-classifier``.
        num_threads: Interpreter CPU threads.
        backend: ``auto`` | ``ai-edge-litert`` | ``tflite-runtime``.
    """

    KINDS = (C.TEXT_CLASSIFIER,)

    def _check_contract(self) -> None:
        shape = self._check_classify()
        part = self.config.classifier
        self.source_len = part.max_source_len
        if len(shape) != 2 or shape[1] != self.source_len:
            raise self._fail(f"classify inputs shape {list(shape)} does not match "
                             f"max_source_len={self.source_len}")
        self.tokenizer = self._tokenizer(C.SOURCE)
        self.add_bos, self.add_eos = part.source.add_bos, part.source.add_eos

    def predict(self, texts: str | Sequence[str], batch_size: int = 64) -> list[Prediction]:
        """Classify one text or a list of texts.

        Raises:
            InputError: Empty text or text that tokenizes to nothing.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        encoded = [encode_source(self.tokenizer, t, self.source_len, self.add_bos,
                                 self.add_eos) for t in items]
        out = []
        for start in range(0, len(items), max(1, batch_size)):
            chunk = encoded[start:start + batch_size]
            ids = pad_sources([row for row, _ in chunk], self.source_len, self.tokenizer.PAD_ID)
            probs, att = self._run(ids)
            for i, (row, shown) in enumerate(chunk):
                out.append(self._prediction(probs[i], att[i, : len(row)], shown,
                                            items[start + i]))
        return out


class TabularClassifier(_Classifier):
    """Classify rows of numbers; the attention weighs the input columns (feature attention).

    Args:
        artifact: Artifact path, bytes or Artifact of kind ``tabular-classifier``.
        num_threads: Interpreter CPU threads.
        backend: ``auto`` | ``ai-edge-litert`` | ``tflite-runtime``.
    """

    KINDS = (C.TABULAR_CLASSIFIER,)

    def _check_contract(self) -> None:
        shape = self._check_classify()
        if len(shape) != 2 or shape[1] < 1:
            raise self._fail(f"classify inputs must be [B, F], got {list(shape)}")
        self.n_features = shape[1]
        names = self.config.classifier.feature_names or [f"x{i}" for i in range(shape[1])]
        if len(names) != self.n_features:
            raise self._fail(f"config 'classifier.feature_names' must list {self.n_features} "
                             "names")
        self.feature_names = [str(x) for x in names]

    def predict(self, rows: str | Sequence[Any]) -> list[Prediction]:
        """Classify a row or a list of rows.

        Args:
            rows: One row (a CSV line or a sequence of numbers) or a list of rows.

        Raises:
            InputError: A row of the wrong width, or a value that is not a finite number.
        """
        if isinstance(rows, np.ndarray):
            rows = [rows.tolist()] if rows.ndim == 1 else rows.tolist()
        elif isinstance(rows, str) or (len(rows) and not isinstance(rows[0], (str, Sequence))):
            rows = [rows]
        if not len(rows):
            raise InputError("no rows to classify")
        data = np.array([self._parse(r, i + 1) for i, r in enumerate(rows)], np.float32)
        probs, att = self._run(data)
        return [self._prediction(probs[i], att[i], list(self.feature_names), data[i].tolist())
                for i in range(len(data))]

    def _parse(self, row: str | Sequence[Any], n: int) -> list[float]:
        if isinstance(row, str):
            fields = next(csv.reader([row.strip()]), [])
        else:
            fields = list(row)
        if len(fields) != self.n_features:
            raise InputError(f"row {n} has {len(fields)} values, the model expects "
                             f"{self.n_features} ({', '.join(self.feature_names)})")
        values = []
        for name, v in zip(self.feature_names, fields):
            try:
                x = float(v.strip() if isinstance(v, str) else v)
            except (TypeError, ValueError):
                raise InputError(f"row {n}: {name}={v!r} is not a number") from None
            if not math.isfinite(x) or abs(x) > float(np.finfo(np.float32).max):
                raise InputError(f"row {n}: {name}={v!r} is not finite in float32 "
                                 "(|x| <= 3.4e38)")
            values.append(x)
        return values


_CLASSES: dict[str, type[LoadedModel]] = {
    C.TEXT_CLASSIFIER: TextClassifier, C.TABULAR_CLASSIFIER: TabularClassifier}


def load_classifier(artifact: ArtifactLike | os.PathLike, num_threads: int | None = None,
                    backend: str | None = None) -> TextClassifier | TabularClassifier:
    """Load a text or tabular classifier; InputError (naming the right command) otherwise."""
    art = as_artifact(artifact)
    if art.kind not in _CLASSES:
        raise InputError(f"{art.path or '<artifact>'} is a {art.kind} model, not a classifier; "
                         "use `edge-attn translate` (or Translator) for it")
    return _CLASSES[art.kind](art, num_threads=num_threads, backend=backend)
