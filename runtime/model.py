"""What every loaded model shares: the artifact, its kind check, the interpreter session.

A model is checked in two stages, cheap first: the artifact (zip, checksum, kind) before any
interpreter exists, then the interpreter's signatures against the config and the kind's
contract (tensor names, widths, lengths) before the first inference. Any mismatch is an
:class:`~edge_attn.runtime.errors.ArtifactError`; a model of the wrong kind for the class is an
:class:`~edge_attn.runtime.errors.InputError` that names the right command.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

from . import constants as C
from .artifact import Artifact, read_artifact
from .backend import check_mode
from .config import ArtifactConfig, TokenizerSpec
from .contract import check_signatures, require_signature
from .errors import ArtifactError, DataError, EdgeAttnError, InputError
from .session import Session, Signature
from .tokenizer import tokenizer_from_dict

ArtifactLike = Artifact | str | os.PathLike | bytes

_COMMAND_FOR_KIND = {C.SEQ2SEQ: "translate", C.TEXT_CLASSIFIER: "classify",
                     C.TABULAR_CLASSIFIER: "classify"}


class TruncationWarning(UserWarning):
    """An input was longer than the model's fixed length and was truncated."""


def as_artifact(source: ArtifactLike) -> Artifact:
    """An :class:`Artifact` from a path, bytes or an artifact (read and checked)."""
    if isinstance(source, Artifact):
        return source
    if not isinstance(source, (str, bytes, os.PathLike)):
        raise InputError(f"expected an artifact path, bytes or Artifact, got "
                         f"{type(source).__name__}")
    return read_artifact(source)


def warn_truncated(what: str, original: int, kept: int) -> None:
    """Emit the :class:`TruncationWarning` for one over-long input."""
    warnings.warn(TruncationWarning(
        f"{what} has {original} tokens, more than the model's fixed length; "
        f"truncated to {kept} tokens"), stacklevel=3)


class LoadedModel:
    """Base of :class:`Translator`, :class:`TextClassifier` and :class:`TabularClassifier`.

    Args:
        artifact: Artifact path, bytes or :class:`Artifact`.
        num_threads: Interpreter CPU threads (``None``: backend default).
        backend: ``auto``, ``ai-edge-litert`` or ``tflite-runtime`` (``None``: env/auto).
        session: A session already running ``artifact``'s model bytes (export reuses the one
            it validated with); ``num_threads`` and ``backend`` are then ignored.

    Attributes:
        artifact: The checked artifact.
        config: Its typed ``config.json`` (:class:`~edge_attn.runtime.config.ArtifactConfig`).
        session: The :class:`~edge_attn.runtime.session.Session` running the model.
    """

    KINDS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, artifact: ArtifactLike, num_threads: int | None = None,
                 backend: str | None = None, session: Session | None = None) -> None:
        self.artifact = as_artifact(artifact)
        self.config: ArtifactConfig = self.artifact.config
        self.origin = self.artifact.path or "<artifact>"
        if self.artifact.kind not in self.KINDS:
            cmd = _COMMAND_FOR_KIND[self.artifact.kind]
            raise InputError(
                f"{self.origin} is a {self.artifact.kind} model, but {type(self).__name__} "
                f"needs {' or '.join(self.KINDS)}; use `edge-attn {cmd}` "
                f"(or edge_attn.runtime.load_model) for it")
        if session is None:  # e.g. int4-weights cannot run on tflite-runtime 2.14
            check_mode(self.config.quantization, backend)
        self.session = session or Session(self.artifact.model_bytes, num_threads, backend)
        check_signatures(self.config.signatures, self.session.signatures, self.origin)
        self._check_contract()

    @classmethod
    def load(cls, path: str | os.PathLike, num_threads: int | None = None,
             backend: str | None = None) -> LoadedModel:
        """Read the artifact at ``path`` and load it (same as the constructor)."""
        return cls(path, num_threads=num_threads, backend=backend)

    @property
    def kind(self) -> str:
        """The model kind (``seq2seq``, ``text-classifier``, ``tabular-classifier``)."""
        return self.artifact.kind

    @property
    def backend_name(self) -> str:
        """Backend name and version, e.g. ``"ai-edge-litert 2.3.0"``."""
        return self.session.backend.describe()

    def _check_contract(self) -> None:
        """Kind-specific checks of config and signatures; ArtifactError on failure."""

    # helpers for the subclasses' contract checks ------------------------------------------

    def _fail(self, message: str) -> ArtifactError:
        return ArtifactError(f"{self.origin}: {message}")

    def _signature(self, name: str, inputs: Sequence[str], outputs: Sequence[str]) -> Signature:
        """The signature ``name`` with exactly ``inputs`` and at least ``outputs``."""
        if name not in self.config.signatures:
            raise self._fail(f"config declares no {name!r} signature")
        return require_signature(self.session.signatures, name, inputs, outputs, self.origin)

    def _tokenizer(self, key: str) -> Any:
        """The ``key`` tokenizer, checked against its spec in the config (vocabulary size,
        special ids): a tokenizer larger than the model's embedding is refused here."""
        spec: TokenizerSpec = self.config.tokenizer_specs()[key]
        try:
            tok = tokenizer_from_dict(self.artifact.tokenizers.get(key))
        except (DataError, InputError) as exc:
            raise self._fail(f"bad {key} tokenizer: {exc}") from None
        if spec.vocab_size is not None and tok.vocab_size != spec.vocab_size:
            raise self._fail(f"{key} tokenizer has {tok.vocab_size} tokens but the model's "
                             f"{key} vocabulary size is {spec.vocab_size}")
        want = {"pad": tok.PAD_ID, "unk": tok.UNK_ID, "bos": tok.BOS_ID, "eos": tok.EOS_ID}
        if spec.special_ids.to_dict() != want:
            raise self._fail(f"config {key} special ids {spec.special_ids.to_dict()} differ "
                             f"from the tokenizer's {want}")
        return tok


def check_text(text: Any, what: str = "text") -> str:
    """``text`` if it is a non-blank str; InputError otherwise."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be a str, got {type(text).__name__}")
    if not text.strip():
        raise InputError(f"{what} is empty")
    return text


def encode_source(tokenizer: Any, text: str, length: int, add_bos: bool, add_eos: bool,
                  what: str = "text") -> tuple[list[int], list[str]]:
    """Token ids (at most ``length``, truncated with a warning) and their display strings.

    Display strings are the surface tokens (``tokenizer.split``) so unknown words stay
    readable; specials are shown as ``<bos>`` / ``<eos>``.

    Raises:
        InputError: Empty text, or text that tokenizes to nothing.
    """
    check_text(text, what)
    one_pass = getattr(tokenizer, "encode_split", None)
    if one_pass is not None:
        full, words = one_pass(text, add_bos=add_bos, add_eos=add_eos)
    else:
        full, words = tokenizer.encode(text, add_bos=add_bos, add_eos=add_eos), None
    n_special = int(add_bos) + int(add_eos)
    if len(full) <= n_special:
        raise InputError(f"{what} {text[:40]!r} tokenizes to nothing")
    ids = full
    if len(full) > length:  # as encode(max_len=length): <eos> kept last
        ids = full[: len(full) - int(add_eos)][: length - int(add_eos)]
        ids += full[len(full) - int(add_eos):]
        warn_truncated(f"{what} {text[:40]!r}", len(full), len(ids))
    body = full[int(add_bos):len(full) - int(add_eos)]
    if words is None:
        try:
            words = tokenizer.split(text)
        except EdgeAttnError:
            words = []
    if len(words) != len(body):
        words = tokenizer.tokens(body)
    kept = len(ids) - n_special
    shown = (tokenizer.tokens([tokenizer.BOS_ID]) if add_bos else []) + words[:kept]
    shown += tokenizer.tokens([tokenizer.EOS_ID]) if add_eos else []
    return ids, shown
