"""The artifact's ``config.json`` as typed dataclasses: the one reader of raw config keys.

Layout (format version 2)::

    {"format": "edge-attn-artifact", "format_version": 2, "kind": ..., "quantization": ...,
     "package_version": ..., "model_sha256": ..., "model_bytes": ...,
     "signatures": {name: {"inputs": {tensor: {"shape": [...], "dtype": ...}},
                           "outputs": {...}}},
     "model": {...hyper-parameters...}, "training": {...},
     "seq2seq": {"max_source_len", "max_target_len", "state_names",
                 "source": TOKENIZER, "target": TOKENIZER}            # kind seq2seq
     "classifier": {"labels", "max_source_len", "source": TOKENIZER,  # text-classifier
                    "feature_names"}}                                 # tabular-classifier
    TOKENIZER = {"vocab_size", "special_ids": {"pad", "unk", "bos", "eos"},
                 "add_bos", "add_eos"}

Every ``from_dict`` checks each field's type and range and raises
:class:`~edge_attn.runtime.errors.ArtifactError` naming the field (``seq2seq.source.vocab_size``);
``to_dict`` is its inverse. Version-1 configs (flat: ``max_source_len``, ``labels``,
``special_ids`` ... at the top, no vocabulary sizes) are mapped in by :func:`upgrade_v1`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import constants as C
from .config_fields import Fields as _Fields
from .errors import ArtifactError

_SPECIALS = ("pad", "unk", "bos", "eos")


@dataclass(frozen=True)
class SpecialIds:
    """Ids of ``<pad> <unk> <bos> <eos>`` (fixed 0..3 for every edge-attn tokenizer; a user
    model's vocabulary keeps its own ids, and one without bos/eos has ``None`` there)."""

    pad: int = 0
    unk: int = 1
    bos: int | None = 2
    eos: int | None = 3

    @classmethod
    def from_dict(cls, raw: Any, where: str = "special_ids", origin: str = "artifact"
                  ) -> SpecialIds:
        f = _Fields(raw, where, origin)
        ids = cls(**{k: f.int(k, low=0) if k in ("pad", "unk") or f.has(k) else None
                     for k in _SPECIALS})
        given = [v for v in ids.to_dict().values() if v is not None]
        if len(set(given)) != len(given):
            raise f.fail(where, f"must be distinct ids, got {ids.to_dict()}")
        return ids

    def to_dict(self) -> dict[str, int | None]:
        return {"pad": self.pad, "unk": self.unk, "bos": self.bos, "eos": self.eos}


@dataclass(frozen=True)
class TokenizerSpec:
    """What the model expects of one tokenizer.

    Attributes:
        vocab_size: Rows of the embedding (source) or width of ``log_probs`` (target);
            ``None`` only in version-1 artifacts that did not record it.
        special_ids: The special token ids.
        add_bos: Encode texts with a leading ``<bos>`` (sources: as in training).
        add_eos: Encode texts with a trailing ``<eos>``.
    """

    vocab_size: int | None
    special_ids: SpecialIds = field(default_factory=SpecialIds)
    add_bos: bool = False
    add_eos: bool = False

    @classmethod
    def from_dict(cls, raw: Any, where: str, origin: str = "artifact") -> TokenizerSpec:
        f = _Fields(raw, where, origin)
        size = f.int("vocab_size", low=len(_SPECIALS), default=None)
        ids = SpecialIds.from_dict(f.get("special_ids"), f.name("special_ids"), origin)
        if size is not None and max(v for v in ids.to_dict().values() if v is not None) >= size:
            raise f.fail(f.name("special_ids"), f"must be below vocab_size {size}")
        return cls(size, ids, f.bool("add_bos", False), f.bool("add_eos", False))

    def to_dict(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "special_ids": self.special_ids.to_dict(),
                "add_bos": self.add_bos, "add_eos": self.add_eos}


@dataclass(frozen=True)
class TensorDecl:
    """A signature tensor as exported: shape (``-1`` = dynamic) and numpy dtype name."""

    shape: tuple[int, ...]
    dtype: str

    @classmethod
    def from_dict(cls, raw: Any, where: str, origin: str = "artifact") -> TensorDecl:
        f = _Fields(raw, where, origin)
        shape = f.get("shape")
        if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in shape):
            raise f.fail(f.name("shape"), f"must be a list of integers >= -1, got {shape!r}")
        return cls(tuple(shape), f.str("dtype"))

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class SignatureDecl:
    """One signature's declared inputs and outputs (checked against the interpreter)."""

    inputs: dict[str, TensorDecl]
    outputs: dict[str, TensorDecl]

    @classmethod
    def from_dict(cls, raw: Any, where: str, origin: str = "artifact") -> SignatureDecl:
        f = _Fields(raw, where, origin)
        parts = {}
        for part in ("inputs", "outputs"):
            tensors = f.obj(part)
            parts[part] = {str(k): TensorDecl.from_dict(v, f"{where}.{part}.{k}", origin)
                           for k, v in tensors.items()}
        return cls(parts["inputs"], parts["outputs"])

    def to_dict(self) -> dict[str, Any]:
        return {part: {k: t.to_dict() for k, t in sorted(getattr(self, part).items())}
                for part in ("inputs", "outputs")}


@dataclass(frozen=True)
class ShortlistConfig:
    """The vocabulary shortlist stored as ``shortlist.bin`` (see :mod:`.shortlist`).

    Attributes:
        n_always: Target ids always scored.
        per_source: Target ids kept per source id.
        source_vocab: Rows of the per-source table (the source vocabulary size).
        sha256: Hex sha256 of the member (checked at read).
        hit_rate: Share of reference target tokens inside their sentence's candidates on
            held-out pairs, measured at export (information).
        head: Columns whose output rows the step holds as a constant (``<eos>`` and the
            ``always`` ids, see :meth:`.shortlist.Shortlist.head`); None in artifacts
            exported before the head, whose step gathers every candidate row.
    """

    n_always: int
    per_source: int
    source_vocab: int
    sha256: str
    hit_rate: float | None = None
    head: int | None = None

    @classmethod
    def from_dict(cls, raw: Any, where: str, origin: str = "artifact") -> ShortlistConfig:
        f = _Fields(raw, where, origin)
        sha = f.str("sha256")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise f.fail(f.name("sha256"), "must be 64 lowercase hex digits")
        rate = f.get("hit_rate", None)
        if rate is not None and (not isinstance(rate, (int, float)) or isinstance(rate, bool)
                                 or not 0.0 <= rate <= 1.0):
            raise f.fail(f.name("hit_rate"), f"must be a number in [0, 1], got {rate!r}")
        return cls(f.int("n_always"), f.int("per_source"), f.int("source_vocab"), sha, rate,
                   f.int("head", default=None))

    def to_dict(self) -> dict[str, Any]:
        out = {"n_always": self.n_always, "per_source": self.per_source,
               "source_vocab": self.source_vocab, "sha256": self.sha256,
               "hit_rate": self.hit_rate}
        if self.head is not None:
            out["head"] = self.head
        return out


ENCODER_LOOPS = ("while", "unrolled")


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The seq2seq part: fixed lengths, decoder state names, both tokenizers, and optionally
    a vocabulary shortlist and how the encoder recurrence was exported."""

    max_source_len: int
    max_target_len: int
    state_names: tuple[str, ...]
    source: TokenizerSpec
    target: TokenizerSpec
    shortlist: ShortlistConfig | None = None
    encoder_loop: str = "while"

    @classmethod
    def from_dict(cls, raw: Any, origin: str = "artifact") -> Seq2SeqConfig:
        f = _Fields(raw, "seq2seq", origin)
        states = f.names("state_names")
        bad = [n for n in states if not n.startswith(C.STATE_PREFIX)]
        if bad:
            raise f.fail(f.name("state_names"), f"entries must start with "
                                                f"{C.STATE_PREFIX!r}, got {bad}")
        target_len = f.int("max_target_len")
        if target_len > C.MAX_DECODE_LEN:
            raise f.fail(f.name("max_target_len"), f"must be at most {C.MAX_DECODE_LEN}, "
                                                   f"got {target_len}")
        shortlist = (ShortlistConfig.from_dict(f.get("shortlist"), f.name("shortlist"), origin)
                     if f.has("shortlist") else None)
        return cls(f.int("max_source_len"), target_len, states,
                   TokenizerSpec.from_dict(f.get(C.SOURCE), f.name(C.SOURCE), origin),
                   TokenizerSpec.from_dict(f.get(C.TARGET), f.name(C.TARGET), origin),
                   shortlist, f.str("encoder_loop", ENCODER_LOOPS, default="while"))

    def to_dict(self) -> dict[str, Any]:
        out = {"max_source_len": self.max_source_len, "max_target_len": self.max_target_len,
               "state_names": list(self.state_names), C.SOURCE: self.source.to_dict(),
               C.TARGET: self.target.to_dict(), "encoder_loop": self.encoder_loop}
        if self.shortlist is not None:
            out["shortlist"] = self.shortlist.to_dict()
        return out


@dataclass(frozen=True)
class ClassifierConfig:
    """The classifier part: class labels, and the text or the tabular input.

    Attributes:
        labels: Class names, in the order of the ``probs`` columns (non-empty, unique).
        max_source_len: Text: the fixed token length S. Tabular: ``None``.
        source: Text: the tokenizer spec. Tabular: ``None``.
        feature_names: Tabular: one name per column (``None``: x0, x1, ...). Text: ``None``.
    """

    labels: tuple[str, ...]
    max_source_len: int | None = None
    source: TokenizerSpec | None = None
    feature_names: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, raw: Any, kind: str, origin: str = "artifact") -> ClassifierConfig:
        f = _Fields(raw, "classifier", origin)
        labels = f.names("labels")
        if kind == C.TEXT_CLASSIFIER:
            return cls(labels, f.int("max_source_len"), TokenizerSpec.from_dict(
                f.get(C.SOURCE), f.name(C.SOURCE), origin))
        return cls(labels, feature_names=f.names("feature_names", None))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": list(self.labels)}
        if self.source is not None:
            out.update(max_source_len=self.max_source_len, source=self.source.to_dict())
        if self.feature_names is not None:
            out["feature_names"] = list(self.feature_names)
        return out


_HEADER = ("format", "format_version", "kind", "quantization", "package_version",
           "model_sha256", "model_bytes", "signatures", "model", "training")
_PARTS = {C.SEQ2SEQ: "seq2seq", C.TEXT_CLASSIFIER: "classifier",
          C.TABULAR_CLASSIFIER: "classifier"}


@dataclass(frozen=True)
class ArtifactConfig:
    """The whole ``config.json``: common header plus the part of the model's kind.

    Attributes:
        kind: ``seq2seq``, ``text-classifier`` or ``tabular-classifier``.
        quantization: One of :data:`~edge_attn.runtime.constants.QUANT_MODES`.
        model_sha256: Hex sha256 of ``model.tflite``.
        model_bytes: Its length.
        signatures: Signature name → declared tensors.
        seq2seq: The seq2seq part (kind ``seq2seq`` only).
        classifier: The classifier part (classifier kinds only).
        package_version: edge-attn version that exported it.
        format_version: Format version read (written files always get the current one).
        model: Hyper-parameters (information only, never read by the runtime).
        training: Training data and metrics (information only).
    """

    kind: str
    quantization: str
    model_sha256: str
    model_bytes: int
    signatures: dict[str, SignatureDecl]
    seq2seq: Seq2SeqConfig | None = None
    classifier: ClassifierConfig | None = None
    package_version: str = "unknown"
    format_version: int = C.FORMAT_VERSION
    model: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any, origin: str = "artifact") -> ArtifactConfig:
        """Parse and check a ``config.json`` (any supported format version).

        Raises:
            ArtifactError: Not an edge-attn config, a newer format, or any field of the wrong
                type or range (the message names it).
        """
        if not isinstance(raw, Mapping) or raw.get("format") != C.FORMAT_NAME:
            raise ArtifactError(f"{origin}: not an edge-attn artifact (unknown config format)")
        version = raw.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ArtifactError(f"{origin}: config field 'format_version' must be a positive "
                                f"integer, got {version!r}")
        if version > C.FORMAT_VERSION:
            raise ArtifactError(f"{origin}: artifact format version {version} is newer than "
                                f"this runtime supports ({C.FORMAT_VERSION}); upgrade edge-attn")
        f = _Fields(upgrade_v1(raw) if version == 1 else raw, "", origin)
        kind = f.str("kind", C.MODEL_KINDS)
        part = _PARTS[kind]
        extra = sorted(set(f.raw) - set(_HEADER) - {part})
        if extra:
            raise f.fail(extra[0], f"is not a field of a {kind} config")
        sha = f.str("model_sha256")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise f.fail("model_sha256", "must be 64 lowercase hex digits")
        sigs = {str(k): SignatureDecl.from_dict(v, f"signatures.{k}", origin)
                for k, v in f.obj("signatures").items()}
        if not sigs:
            raise f.fail("signatures", "must declare at least one signature")
        config = cls(
            kind, f.str("quantization", C.QUANT_MODES), sha, f.int("model_bytes", low=8), sigs,
            Seq2SeqConfig.from_dict(f.get(part), origin) if kind == C.SEQ2SEQ else None,
            (ClassifierConfig.from_dict(f.get(part), kind, origin) if kind != C.SEQ2SEQ
             else None),
            f.str("package_version", default="unknown"), version,
            dict(f.obj("model", {})), dict(f.obj("training", {})))
        if version >= 2:  # version 1 did not record vocabulary sizes
            for name, tok in config.tokenizer_specs().items():
                if tok.vocab_size is None:
                    raise f.fail(f"{part}.{name}.vocab_size", "is missing")
        return config

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the current format version (what ``from_dict`` reads back)."""
        out: dict[str, Any] = {
            "format": C.FORMAT_NAME, "format_version": C.FORMAT_VERSION, "kind": self.kind,
            "quantization": self.quantization, "package_version": self.package_version,
            "model_sha256": self.model_sha256, "model_bytes": self.model_bytes,
            "signatures": {k: s.to_dict() for k, s in sorted(self.signatures.items())},
            "model": dict(self.model), "training": dict(self.training)}
        part = self.seq2seq if self.seq2seq is not None else self.classifier
        if part is not None:
            out[_PARTS[self.kind]] = part.to_dict()
        return out

    def tokenizer_specs(self) -> dict[str, TokenizerSpec]:
        """The tokenizers this kind needs: ``{"source", "target"}`` (seq2seq), ``{"source"}``
        (text classifier) or ``{}`` (tabular)."""
        if self.seq2seq is not None:
            return {C.SOURCE: self.seq2seq.source, C.TARGET: self.seq2seq.target}
        if self.classifier is not None and self.classifier.source is not None:
            return {C.SOURCE: self.classifier.source}
        return {}


def upgrade_v1(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A version-1 config (flat kind fields, one ``special_ids``) in the version-2 layout.

    Version 1 stored no vocabulary sizes; the built-in models' hyper-parameters
    (``model.source_vocab`` / ``target_vocab`` / ``vocab_size``) supply them when present,
    else they stay unknown (``None``) and only the tokenizer-vs-``log_probs`` check runs.
    """
    out = {k: raw[k] for k in _HEADER if k in raw}
    kind = raw.get("kind")
    hp = raw.get("model") if isinstance(raw.get("model"), Mapping) else {}
    specials = raw.get("special_ids", SpecialIds().to_dict())

    def spec(vocab_key: str) -> dict[str, Any]:
        return {"vocab_size": hp.get(vocab_key), "special_ids": specials,
                "add_bos": raw.get("source_add_bos", False),
                "add_eos": raw.get("source_add_eos", False)}

    if kind == C.SEQ2SEQ:
        target = dict(spec("target_vocab"), add_bos=False, add_eos=False)
        out["seq2seq"] = {"max_source_len": raw.get("max_source_len"),
                          "max_target_len": raw.get("max_target_len"),
                          "state_names": raw.get("state_names") or [C.STATE_PREFIX + "h"],
                          C.SOURCE: spec("source_vocab"), C.TARGET: target}
    elif kind in (C.TEXT_CLASSIFIER, C.TABULAR_CLASSIFIER):
        part: dict[str, Any] = {"labels": raw.get("labels")}
        if kind == C.TEXT_CLASSIFIER:
            part.update(max_source_len=raw.get("max_source_len"), source=spec("vocab_size"))
        elif raw.get("feature_names") is not None:
            part["feature_names"] = raw.get("feature_names")
        out["classifier"] = part
    return out
