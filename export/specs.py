"""Export specs: everything export needs to know about one model kind, behind one interface.

:func:`~export.pipeline.export` runs the same fixed sequence for every model — trace the
spec's endpoints, convert with its calibration data, validate on its examples with its
metrics, write its config and tokenizers — and never asks for the kind. A new kind of model
(e.g. a user's own Keras model) is one more class satisfying :class:`ExportSpec`;
:func:`spec_for_checkpoint` is the only place a kind name is looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from edge_attn import __version__
from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import Artifact, sha256_hex
from edge_attn.runtime.config import ArtifactConfig, SignatureDecl
from edge_attn.runtime.errors import DataError, ExportError, UnknownChoiceError
from edge_attn.runtime.session import Session

from .examples import Examples
from .lowering import TFLiteCalls
from .quantization import QuantConfig

Endpoints = dict[str, tuple[Callable[..., dict[str, Any]], list]]
Representative = Callable[[], Iterator[tuple[str, dict[str, Any]]]]
Tick = Callable[[int], None]
MIN_SAMPLES = 8


class ExportSpec(Protocol):
    """One model kind as export sees it.

    Attributes:
        kind: The artifact's model kind (a :data:`~edge_attn.runtime.constants.MODEL_KINDS`).
        model: The object ``keras.export.ExportArchive`` tracks (its variables are frozen).
        agreement: The metric gated by the tolerance field of the same name
            (``token_agreement`` / ``label_agreement``).
    """

    kind: str
    model: Any
    agreement: str

    def endpoints(self, calls: TFLiteCalls) -> Endpoints:
        """``{signature: (function, input_signature)}``; functions return named outputs."""

    def calibration_examples(self, path: str | None) -> Examples:
        """Real examples for int8/int16x8 calibration (``path``: a user file, else held-out)."""

    def representative(self, examples: Examples, tick: Tick | None) -> Representative:
        """Generator factory yielding ``(signature, {input: array})`` from ``examples``."""

    def validation_examples(self) -> Examples:
        """Fixed held-out examples the converted model is compared on."""

    def metrics(self, artifact: Artifact, session: Session,
                examples: Examples) -> dict[str, float]:
        """Keras vs the converted model: ``max_abs_diff``, ``mean_abs_diff``,
        ``attention_argmax_agreement``, :attr:`agreement` and any extra figures."""

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        """The typed artifact config of the converted model."""

    def tokenizers(self) -> dict[str, dict[str, Any]]:
        """JSON tokenizers keyed by ``source`` / ``target`` (may be empty)."""


def representative_dataset(spec: ExportSpec, examples: Examples, samples: int,
                           tick: Tick | None = None) -> Representative:
    """The spec's calibration generator over the first ``samples`` examples.

    Raises:
        ExportError: Fewer than ``MIN_SAMPLES`` examples are available.
    """
    if len(examples) < MIN_SAMPLES:
        raise ExportError(f"int8/int16x8 calibration needs at least {MIN_SAMPLES} examples, "
                          f"got {len(examples)}; give --calibration-data with more lines")
    return spec.representative(examples.head(samples), tick)


def header(kind: str, model_bytes: bytes, quant: QuantConfig,
           signatures: dict[str, SignatureDecl], ckpt_config: dict[str, Any],
           **part: Any) -> ArtifactConfig:
    """The config every kind shares, plus its ``seq2seq=`` / ``classifier=`` part, checked by
    a round trip through :meth:`ArtifactConfig.from_dict` (what the runtime will read)."""
    config = ArtifactConfig(
        kind=kind, quantization=quant.mode.value, model_sha256=sha256_hex(model_bytes),
        model_bytes=len(model_bytes), signatures=signatures, package_version=__version__,
        model=dict(ckpt_config.get("model") or {}),
        training={"data": ckpt_config.get("data"), "metrics": ckpt_config.get("metrics", {})},
        **part)
    return ArtifactConfig.from_dict(config.to_dict(), "exported config")


def heldout_rows(ckpt: Any, path: str | None, split: str,
                 reader: Callable[[str], list] | None) -> list[list[Any]]:
    """Examples as stored in the checkpoint's ``split``, or read from ``path`` by ``reader``.

    Raises:
        DataError: ``path`` missing, or a user file for a kind without a reader.
        ExportError: No held-out examples stored.
    """
    if path is None:
        rows = ckpt.heldout.get(split, [])
        if not rows:
            raise ExportError(f"{ckpt.path}: no held-out {split} examples stored; "
                              "give --calibration-data FILE")
        return rows
    if not Path(path).is_file():
        raise DataError(f"{path}: calibration file not found")
    if reader is None:
        raise DataError("tabular calibration uses the checkpoint's held-out rows; "
                        "--calibration-data is not supported for tabular models")
    return [list(r) for r in reader(path)]


def _registry() -> dict[str, Callable[[Any], ExportSpec]]:
    from .spec_classifier import TabularClassifierSpec, TextClassifierSpec
    from .spec_seq2seq import Seq2SeqSpec

    return {C.SEQ2SEQ: Seq2SeqSpec, C.TEXT_CLASSIFIER: TextClassifierSpec,
            C.TABULAR_CLASSIFIER: TabularClassifierSpec}


def spec_for_checkpoint(ckpt: Any) -> ExportSpec:
    """The built-in spec of a training checkpoint (the only lookup by kind in export/).

    Raises:
        UnknownChoiceError: The checkpoint's kind has no spec.
    """
    specs = _registry()
    kind = ckpt.config.get("kind")
    if kind not in specs:
        raise UnknownChoiceError("model kind", str(kind), list(specs))
    return specs[kind](ckpt)


def load_examples(ckpt: Any, path: str | None = None, split: str = "validation") -> Examples:
    """Held-out ``split`` examples of a checkpoint (or a user file), encoded as in training."""
    return spec_for_checkpoint(ckpt).examples(split, path)


class CheckpointSpec:
    """What the built-in specs share: a training checkpoint, its examples and tokenizers.

    Subclasses set :attr:`kind` and :attr:`agreement`, and implement ``encode(rows)``
    (held-out rows → :class:`Examples`) and the kind's endpoints, calibration, metrics and
    config part.

    Args:
        ckpt: A loaded :class:`~edge_attn.training.checkpoint.Checkpoint`.
    """

    kind: str = ""
    agreement: str = ""
    reader: Callable[[str], list] | None = None  # reads a user calibration file

    def __init__(self, ckpt: Any) -> None:
        self.ckpt, self.model, self.ckpt_config = ckpt, ckpt.model, dict(ckpt.config)

    def encode(self, rows: list[list[Any]]) -> Examples:
        raise NotImplementedError

    def examples(self, split: str, path: str | None = None) -> Examples:
        """The checkpoint's held-out ``split`` (or ``path``), encoded as in training."""
        return self.encode(heldout_rows(self.ckpt, path, split, self.reader))

    def calibration_examples(self, path: str | None) -> Examples:
        return self.examples("validation", path)

    def validation_examples(self) -> Examples:
        return self.examples("test")

    def tokenizers(self) -> dict[str, dict[str, Any]]:
        return {k: t.to_dict() for k, t in self.ckpt.tokenizers.items()}
