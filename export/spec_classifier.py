"""Export specs of the built-in classifiers: text (HAN pooling) and tabular (feature
attention). One ``classify(inputs) -> probs, attention`` signature each; calibration feeds
real inputs; validation compares probabilities (max / mean |Δ|), labels and attention
argmaxes with Keras, and both accuracies / macro-F1 against the true labels (the gate).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from edge_attn.data.prepare import pad
from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import Artifact
from edge_attn.runtime.config import ArtifactConfig, ClassifierConfig, SignatureDecl, TokenizerSpec
from edge_attn.runtime.errors import ExportError
from edge_attn.runtime.session import Session

from .examples import Examples
from .lowering import TFLiteCalls
from .quantization import QuantConfig
from .specs import CheckpointSpec, Endpoints, Representative, Tick, header
from .task_metrics import classifier_scores
from .validate import diff

CALIBRATION_BATCH = 8


def _read_labeled(path: str) -> list:
    from edge_attn.data.tsv import read_labeled

    return read_labeled(path)


class _ClassifierSpec(CheckpointSpec):
    """Shared by both classifiers: the ``classify`` endpoint, calibration and metrics."""

    agreement = "label_agreement"

    def __init__(self, ckpt: Any) -> None:
        super().__init__(ckpt)
        self.labels = list(self.ckpt_config["labels"])

    def _input_spec(self, tf: Any) -> Any:
        raise NotImplementedError

    def _classify(self, inputs: Any, calls: TFLiteCalls) -> tuple[Any, Any]:
        return self.model.classify(inputs)  # tabular: no embedding or recurrence to lower

    def _known(self, rows: list[list[Any]]) -> tuple[list[list[Any]], np.ndarray]:
        index = {name: i for i, name in enumerate(self.labels)}
        known = [r for r in rows if r[0] in index]
        return known, np.array([index[r[0]] for r in known], dtype="int32")

    def endpoints(self, calls: TFLiteCalls) -> Endpoints:
        import tensorflow as tf

        def classify(inputs):
            probs, attention = self._classify(inputs, calls)
            return {C.CLS_PROBS: probs, C.CLS_ATTENTION: attention}

        return {C.CLASSIFY: (classify, [self._input_spec(tf)])}

    def representative(self, examples: Examples, tick: Tick | None) -> Representative:
        return lambda: self._calibration(examples, tick)

    def _calibration(self, ex: Examples, tick: Tick | None) -> Iterator[tuple[str, dict]]:
        for start in range(0, len(ex.inputs), CALIBRATION_BATCH):
            chunk = ex.inputs[start:start + CALIBRATION_BATCH]
            yield C.CLASSIFY, {C.CLS_INPUTS: chunk}
            if tick:
                tick(len(chunk))

    def metrics(self, artifact: Artifact, session: Session,
                examples: Examples) -> dict[str, float]:
        ex = examples
        res = session.run(C.CLASSIFY, {C.CLS_INPUTS: ex.inputs})
        probs, att = (np.asarray(v) for v in self.model.classify(ex.inputs))
        mx, mean = diff(probs, res[C.CLS_PROBS])
        got = res[C.CLS_PROBS].argmax(-1)
        return {"max_abs_diff": mx, "mean_abs_diff": mean,
                "label_agreement": float((probs.argmax(-1) == got).mean()),
                "attention_argmax_agreement": float(
                    (att.argmax(-1) == res[C.CLS_ATTENTION].argmax(-1)).mean()),
                **classifier_scores(probs.argmax(-1), got, ex.labels, probs.shape[-1])}


class TextClassifierSpec(_ClassifierSpec):
    """The built-in :class:`~edge_attn.models.text_classifier.TextClassifier`."""

    kind = C.TEXT_CLASSIFIER
    reader = staticmethod(_read_labeled)

    def __init__(self, ckpt: Any) -> None:
        super().__init__(ckpt)
        self.source_len = int(self.ckpt_config["max_source_len"])
        self.tok = ckpt.tokenizers[C.SOURCE]

    def _input_spec(self, tf: Any) -> Any:
        return tf.TensorSpec([None, self.model.hp["max_len"]], tf.int32, name=C.CLS_INPUTS)

    def _classify(self, inputs: Any, calls: TFLiteCalls) -> tuple[Any, Any]:
        return self.model.classify(inputs, calls)

    def encode(self, rows: list[list[Any]]) -> Examples:
        """Texts truncated to the padded length, as in training."""
        known, y = self._known(rows)
        x = pad([self.tok.encode(r[1], add_eos=False, max_len=self.source_len) for r in known],
                self.source_len)
        return Examples([r[1] for r in known], inputs=x, labels=y)

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        size = int(self.model.hp["vocab_size"])
        if self.tok.vocab_size != size:
            raise ExportError(f"source tokenizer has {self.tok.vocab_size} tokens, the "
                              f"model's vocabulary {size}")
        part = ClassifierConfig(tuple(self.labels), self.source_len,
                                TokenizerSpec(size, add_bos=False, add_eos=False))
        return header(self.kind, model_bytes, quant, signatures, self.ckpt_config,
                      classifier=part)


class TabularClassifierSpec(_ClassifierSpec):
    """The built-in :class:`~edge_attn.models.tabular_classifier.TabularClassifier`."""

    kind = C.TABULAR_CLASSIFIER

    def _input_spec(self, tf: Any) -> Any:
        return tf.TensorSpec([None, self.model.hp["num_features"]], tf.float32,
                             name=C.CLS_INPUTS)

    def encode(self, rows: list[list[Any]]) -> Examples:
        """Rows ``[label, x0, x1, ...]`` as float32 [N, F]."""
        known, y = self._known(rows)
        x = np.array([r[1:] for r in known], dtype="float32")
        return Examples([""] * len(known), inputs=x, labels=y)

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        names = self.ckpt_config.get("feature_names")
        part = ClassifierConfig(tuple(self.labels),
                                feature_names=tuple(names) if names else None)
        return header(self.kind, model_bytes, quant, signatures, self.ckpt_config,
                      classifier=part)
