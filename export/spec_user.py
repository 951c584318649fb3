"""Export specs of a user's own Keras model: one more spec each, same pipeline, same report.

- :class:`UserSeq2SeqSpec` wraps a pair — derived from a functional model
  (:mod:`.user_seq2seq`) or the user's callables (:mod:`.user_callables`) — with the user's
  vocabularies (any ids and specials: :class:`~edge_attn.runtime.vocab_tokenizer.VocabTokenizer`
  or edge-attn's own tokenizers). Validation compares the artifact with the *user's* model:
  its teacher-forced model fed its own greedy outputs (derived) or its callables' step loop.
- :class:`UserClassifierSpec` wraps a :class:`~.user_classifier.UserClassifier`.

Calibration and validation use the user's examples (``--calibration-data``): the first
``samples`` calibrate, the last :data:`VALIDATION_EXAMPLES` validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import Artifact
from edge_attn.runtime.config import (
    ArtifactConfig,
    ClassifierConfig,
    Seq2SeqConfig,
    SignatureDecl,
    SpecialIds,
    TokenizerSpec,
)
from edge_attn.runtime.decoder import pad_sources
from edge_attn.runtime.errors import DataError
from edge_attn.runtime.session import Session

from .examples import Examples
from .lowering import TFLiteCalls
from .quantization import QuantConfig
from .spec_classifier import TabularClassifierSpec, TextClassifierSpec
from .spec_seq2seq import Seq2SeqSpec
from .specs import Endpoints, header
from .user_classifier import UserClassifier, classifier_endpoints
from .user_endpoints import pair_greedy, seq2seq_endpoints, teacher_forced_greedy
from .user_vocab import check_size

VALIDATION_EXAMPLES = 200


def _holder(pair: Any, owners: Sequence[Any]) -> Any:
    """A Keras layer that owns the user's weights (what ExportArchive tracks) and forwards
    ``encode`` / ``step`` / ``classify`` to ``pair``."""
    import keras

    class UserModel(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name="user_model")
            self.owners = list(owners)
            object.__setattr__(self, "pair", pair)
            self.built = True

        def __getattr__(self, name: str) -> Any:  # encode, step, classify, state_names, hp
            if name.startswith("_") or name == "pair":
                raise AttributeError(name)
            return getattr(object.__getattribute__(self, "pair"), name)

    return UserModel()


def _tokenizer_spec(tok: Any, size: int, add_bos: bool = False) -> TokenizerSpec:
    ids = SpecialIds(tok.PAD_ID, tok.UNK_ID, tok.BOS_ID, tok.EOS_ID)
    return TokenizerSpec(size, ids, add_bos=add_bos, add_eos=False)


class _UserRows:
    """Examples from the user's rows: the first ``samples`` calibrate, the tail validates."""

    rows: list

    def _encoded(self, rows: list) -> Examples:
        ex = self.encode(rows)
        if not len(ex):
            labels = getattr(self, "labels", None)
            raise DataError("no usable example" + (
                f": labels must be one of {labels}" if labels else ""))
        return ex

    def calibration_examples(self, path: str | None) -> Examples:
        return self._encoded(self.rows)

    def validation_examples(self) -> Examples:
        return self._encoded(self.rows[-VALIDATION_EXAMPLES:])


class UserSeq2SeqSpec(_UserRows, Seq2SeqSpec):
    """A user seq2seq pair as an export spec.

    Args:
        pair: :class:`~.user_seq2seq.DerivedSeq2Seq` or :class:`~.user_callables.CallableSeq2Seq`.
        owners: Keras objects holding the weights.
        src, tgt: Source / target tokenizers (the model's ids).
        rows: ``(source text, target text)`` examples for calibration and validation.
        describe: JSON-able description recorded as the config's ``model`` (lowering ...).
    """

    def __init__(self, pair: Any, owners: Sequence[Any], src: Any, tgt: Any,
                 rows: Sequence[tuple[str, str]], describe: dict[str, Any]) -> None:
        self.pair, self.model = pair, _holder(pair, owners)
        self.src, self.tgt, self.rows = src, tgt, [tuple(r) for r in rows]
        self.ckpt_config = {"model": describe}
        self.source_len = int(pair.hp["max_source_len"])
        self.target_len = int(pair.hp["max_target_len"])
        self.states = list(pair.state_names)
        self.shortlist, self.shortlist_hit_rate = None, None  # no shortlist for user models
        check_size(tgt, int(pair.hp["target_vocab"]), "target")
        if not self.rows:
            raise DataError("no examples given for calibration and validation")

    def encode(self, rows: list) -> Examples:
        """Pairs that fit the lengths; targets as ``<bos> y`` / ``y <eos>``."""
        src, tgt = self.src, self.tgt
        kept, s_ids, t_ids = [], [], []
        for a, b in rows:
            si, ti = src.encode(a, add_eos=False), tgt.encode(b, add_eos=True)
            if 0 < len(si) <= self.source_len and len(ti) <= self.target_len:
                kept.append(a)
                s_ids.append(si)
                t_ids.append(ti)
        if not kept:
            raise DataError("no example fits the model's source/target lengths")
        pad = tgt.PAD_ID
        return Examples(kept, pad_sources(s_ids, self.source_len, src.PAD_ID),
                        pad_sources([[tgt.BOS_ID, *t[:-1]] for t in t_ids], self.target_len, pad),
                        pad_sources(t_ids, self.target_len, pad))

    def endpoints(self, calls: TFLiteCalls) -> Endpoints:
        return seq2seq_endpoints(self.pair, self.source_len, calls)

    def reference_greedy(self, source: np.ndarray) -> list[list[int]]:
        """The user's own greedy output: their teacher-forced model fed its outputs, or
        their callables' step loop."""
        bos, eos, n = self.tgt.BOS_ID, self.tgt.EOS_ID, self.target_len
        graph = getattr(self.pair, "graph", None)
        if graph is not None:
            first = graph.model.inputs[0] is graph.source
            return teacher_forced_greedy(graph.model, source, bos, eos, n, first)
        return pair_greedy(self.pair, source, bos, eos, n, self.src.PAD_ID)

    def _greedy(self, artifact: Artifact, session: Session, ex: Examples) -> dict[str, float]:
        from edge_attn.runtime.translator import Translator

        ref = self.reference_greedy(ex.source)
        got = [t.ids for t in Translator(artifact, session=session).translate(ex.texts)]
        same = total = 0
        for a, b in zip(ref, got):
            same += sum(x == y for x, y in zip(a, b))
            total += max(len(a), len(b), 1)
        return {"token_agreement": same / total,
                "sentence_agreement": float(np.mean([a == b for a, b in zip(ref, got)]))}

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        part = Seq2SeqConfig(self.source_len, self.target_len, tuple(self.states),
                             _tokenizer_spec(self.src, self.src.vocab_size),
                             _tokenizer_spec(self.tgt, int(self.pair.hp["target_vocab"])))
        return header(self.kind, model_bytes, quant, signatures, self.ckpt_config, seq2seq=part)

    def tokenizers(self) -> dict[str, dict[str, Any]]:
        return {C.SOURCE: self.src.to_dict(), C.TARGET: self.tgt.to_dict()}


class _UserClassifier(_UserRows):
    """A user classifier (text or tabular) as an export spec, on top of the built-in
    classifier specs' endpoint, calibration and metrics (see :func:`classifier_spec`)."""

    def __init__(self, clf: UserClassifier, labels: Sequence[str], rows: Sequence[list],
                 tokenizer: Any = None, feature_names: Sequence[str] | None = None,
                 describe: dict[str, Any] | None = None) -> None:
        self.clf, self.model = clf, _holder(clf, [clf.model])
        self.labels = [str(x) for x in labels]
        self.rows = [[_label_name(r[0], self.labels), *r[1:]] for r in rows]
        self.tok, self.source_len = tokenizer, clf.input_len
        self.ckpt_config = {"model": describe or {},
                            "feature_names": list(feature_names or []) or None}
        if len(self.labels) != clf.num_classes:
            raise DataError(f"{len(self.labels)} labels given for a model with "
                            f"{clf.num_classes} classes")
        if not self.rows:
            raise DataError("no examples given for calibration and validation")

    def _input_spec(self, tf: Any) -> Any:
        dtype = tf.int32 if self.clf.kind == C.TEXT_CLASSIFIER else tf.float32
        return tf.TensorSpec([None, self.source_len], dtype, name=C.CLS_INPUTS)

    def endpoints(self, calls: TFLiteCalls) -> Endpoints:
        return classifier_endpoints(self.clf, calls)

    def tokenizers(self) -> dict[str, dict[str, Any]]:
        return {C.SOURCE: self.tok.to_dict()} if self.tok is not None else {}


class UserTextClassifierSpec(_UserClassifier, TextClassifierSpec):
    """A user text classifier: ids [B, S] from the user's vocabulary."""

    def __init__(self, clf: UserClassifier, labels: Sequence[str], rows: Sequence[list],
                 tokenizer: Any, describe: dict[str, Any] | None = None) -> None:
        super().__init__(clf, labels, rows, tokenizer, None, describe)
        check_size(tokenizer, _embedding_rows(clf.model), "source")

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        part = ClassifierConfig(tuple(self.labels), self.source_len,
                                _tokenizer_spec(self.tok, self.tok.vocab_size))
        return header(self.kind, model_bytes, quant, signatures, self.ckpt_config, classifier=part)


class UserTabularClassifierSpec(_UserClassifier, TabularClassifierSpec):
    """A user tabular classifier: float features [B, F]."""


def classifier_spec(clf: UserClassifier, labels: Sequence[str], rows: Sequence[list],
                    tokenizer: Any = None, feature_names: Sequence[str] | None = None,
                    describe: dict[str, Any] | None = None) -> Any:
    """The spec of a tapped user classifier (text or tabular).

    Args:
        clf: The tapped :class:`~.user_classifier.UserClassifier`.
        labels: Class names (C of them; a sigmoid head has 2).
        rows: ``[label, text]`` (text) or ``[label, x0, x1, ...]`` (tabular) examples.
        tokenizer: The text tokenizer (text classifiers).
        feature_names: Column names (tabular, optional).
        describe: Recorded as the config's ``model``.
    """
    if clf.kind == C.TEXT_CLASSIFIER:
        return UserTextClassifierSpec(clf, labels, rows, tokenizer, describe)
    return UserTabularClassifierSpec(clf, labels, rows, None, feature_names, describe)


def _label_name(label: Any, labels: list[str]) -> str:
    """A row's label as a class name: names as given, class indices ``0 … C-1`` mapped."""
    label = str(label).strip()
    if label not in labels and label.isdigit() and int(label) < len(labels):
        return labels[int(label)]
    return label


def _embedding_rows(model: Any) -> int:
    import keras

    emb = [x for x in model.layers if isinstance(x, keras.layers.Embedding)]
    return int(emb[0].input_dim) if emb else -1
