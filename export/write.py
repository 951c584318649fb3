"""Step 5 of export: the artifact in memory (typed config from the spec) and on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_attn.runtime.artifact import Artifact, write_artifact
from edge_attn.runtime.contract import declare
from edge_attn.runtime.session import Session

from .quantization import QuantConfig


def build_artifact(spec: Any, model_bytes: bytes, quant: QuantConfig,
                   session: Session) -> Artifact:
    """An in-memory artifact for validation and writing.

    Args:
        spec: The model's :class:`~export.specs.ExportSpec`.
        model_bytes: The converted model.
        quant: Its quantization.
        session: A session running ``model_bytes`` (its signatures are declared in the config).
    """
    config = spec.config(model_bytes, quant, declare(session.signatures))
    shortlist = getattr(spec, "shortlist_bytes", lambda: None)()
    return Artifact(config, model_bytes, spec.tokenizers(), shortlist=shortlist)


def write(artifact: Artifact, out: str | Path, validation: dict[str, Any],
          force: bool) -> Path:
    """Write atomically through the runtime's format module."""
    return write_artifact(out, artifact.model_bytes, artifact.config.to_dict(),
                          artifact.tokenizers, validation, force=force,
                          shortlist=artifact.shortlist)
