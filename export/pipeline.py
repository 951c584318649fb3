"""Export as a fixed sequence: trace → convert → quantize → validate → write.

The sequence is the same for every model: whatever depends on the model's kind is asked
of its :class:`~export.specs.ExportSpec` (endpoints, calibration data, validation examples
and metrics, config, tokenizers). The converted model runs in one runtime session, built
once, that both declares the signatures and validates.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_attn.runtime.artifact import sha256_hex
from edge_attn.runtime.config import ENCODER_LOOPS
from edge_attn.runtime.errors import ArtifactError, ExportError, UnknownChoiceError
from edge_attn.runtime.profile import speed_note
from edge_attn.runtime.session import Session

from .convert import convert, op_summary
from .lowering import calls_for
from .quantization import Mode, quant_config
from .specs import ExportSpec, representative_dataset, spec_for_checkpoint
from .trace import trace
from .validate import validate
from .weight_only import before_convert, weight_only
from .workdir import export_workdir
from .write import build_artifact, write

DEFAULT_CALIBRATION_SAMPLES = 200


class NoValidationWarning(UserWarning):
    """Export ran with validation switched off."""


def export(checkpoint_dir: str | Path, out: str | Path, quantize: str = "float32",
           calibration_data: str | None = None,
           calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES, force: bool = False,
           validate_model: bool = True,
           progress: Callable[[str, int, int], None] | None = None,
           shortlist_data: str | None = None,
           encoder_loop: str = "while",
           shortlist_size: tuple[int, int] = (512, 24),
           keep_float: str | tuple[str, ...] = ()) -> dict[str, Any]:
    """Export a training checkpoint to one artifact file.

    Args:
        checkpoint_dir: Directory written by ``edge-attn train``.
        out: Artifact file to write (atomically).
        quantize: A mode name (float32, float16, dynamic, int8, int16x8).
        calibration_data: File of real examples for int8/int16x8 (default: the checkpoint's
            held-out validation examples).
        calibration_samples: How many calibration examples to use.
        force: Replace an existing ``out``.
        validate_model: Compare with Keras and fail out of tolerance.
        progress: ``progress(stage, done, total)`` for calibration progress.
        shortlist_data: A ``src⇥tgt`` file of training pairs: learn a vocabulary shortlist
            from it and add the ``decode_step_shortlist`` signature (seq2seq only).
        encoder_loop: ``while`` (one TFLite WHILE loop, smaller) or ``unrolled`` (S step
            copies, faster on both backends, larger).
        shortlist_size: ``(frequent, per_source)`` of the learned shortlist.
        keep_float: int8 only: parts kept in float (``attention``, ``output`` or TFLite op
            type names; see :mod:`.mixed`), e.g. ``("attention", "output")``.

    Returns:
        Summary: path, size, sha256, mode, signatures and the validation report.
    """
    from edge_attn.training.checkpoint import load_checkpoint

    _start(out, quantize, force, calibration_samples, keep_float)  # fail before loading
    if encoder_loop not in ENCODER_LOOPS:
        raise UnknownChoiceError("encoder loop", encoder_loop, ENCODER_LOOPS)
    spec = spec_for_checkpoint(load_checkpoint(checkpoint_dir))
    spec.encoder_loop = encoder_loop
    if shortlist_data is not None and quant_config(quantize).mode is Mode.INT16X8:
        raise ExportError("--shortlist-data cannot be combined with --quantize int16x8: the "
                          "two decode steps share weights whose 16-bit bias scales then fail "
                          "to prepare in LiteRT; use int8 or int8 with --keep-float")
    if shortlist_data is not None:
        use = getattr(spec, "use_shortlist", None)
        if use is None:
            raise ExportError(f"--shortlist-data applies to seq2seq models, not {spec.kind}")
        use(shortlist_data, *shortlist_size)
    return export_spec(spec, out, quantize, calibration_data, calibration_samples, force,
                       validate_model, progress, keep_float)


def _start(out: str | Path, quantize: str, force: bool, calibration_samples: int,
           keep_float: str | tuple[str, ...] = ()) -> tuple[Any, Path]:
    """``(quant config, out path)`` after the checks that need no model."""
    quant = quant_config(quantize, keep_float)
    out = Path(out)
    if out.exists() and not force:  # fail before minutes of work
        raise ArtifactError(f"{out} exists; pass --force to replace it")
    if calibration_samples < 1:
        raise ArtifactError(f"--calibration-samples must be positive, got {calibration_samples}")
    return quant, out


def export_spec(spec: ExportSpec, out: str | Path, quantize: str = "float32",
                calibration_data: str | None = None,
                calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES, force: bool = False,
                validate_model: bool = True,
                progress: Callable[[str, int, int], None] | None = None,
                keep_float: str | tuple[str, ...] = ()) -> dict[str, Any]:
    """The fixed sequence over any spec (a checkpoint's, or a user model's: see
    :mod:`.user_api`). Arguments and summary as :func:`export`."""
    quant, out = _start(out, quantize, force, calibration_samples, keep_float)
    convert_as = before_convert(quant)  # float32 first for the weight-only modes
    rep = None
    if quant.calibrate:
        cal = spec.calibration_examples(calibration_data)
        total = min(len(cal), calibration_samples)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("calibrating", min(done[0], total), total)

        rep = representative_dataset(spec, cal, calibration_samples, tick)
    with export_workdir(out) as tmp:
        calls = calls_for(quant.mode is Mode.INT16X8, getattr(spec, "encoder_loop", "while"))
        signatures = trace(spec, Path(tmp) / "saved_model", calls)
        model_bytes = convert(Path(tmp) / "saved_model", signatures, convert_as, rep)
    model_bytes = weight_only(model_bytes, quant)
    return _finish(spec, model_bytes, quant, out, force, validate_model)


def _finish(spec: ExportSpec, model_bytes: bytes, quant: Any, out: Path, force: bool,
            validate_model: bool) -> dict[str, Any]:
    """Validate (one session, reused) and write; the summary ``export`` returns."""
    session = Session(model_bytes, num_threads=1)
    artifact = build_artifact(spec, model_bytes, quant, session)
    if validate_model:
        report = validate(spec, artifact, session, quant)
    else:
        warnings.warn("validation skipped (--no-validate): the artifact was not compared "
                      "with the Keras model", NoValidationWarning, stacklevel=3)
        report = {"mode": quant.mode.value, "skipped": True}
    report.update(_model_facts(model_bytes, quant))
    path = _write_sized(artifact, out, report, force)
    summary = {"artifact": str(path), "kind": spec.kind, "quantization": quant.mode.value,
               "bytes": len(model_bytes), "file_bytes": path.stat().st_size,
               "sha256": sha256_hex(model_bytes),
               "signatures": sorted(artifact.config.signatures), "validation": report}
    if speed_note(quant.mode):
        summary["speed_note"] = speed_note(quant.mode)
    return summary


def _model_facts(model_bytes: bytes, quant: Any) -> dict[str, Any]:
    """What the report stores with or without validation: sizes, ops, float ops, speed."""
    facts: dict[str, Any] = {"model_bytes": len(model_bytes), **op_summary(model_bytes)}
    if quant.keep_float:
        facts["keep_float"] = list(quant.keep_float)
    if speed_note(quant.mode):
        facts["speed_note"] = speed_note(quant.mode)
    return facts


def _write_sized(artifact: Any, out: Path, report: dict[str, Any], force: bool) -> Path:
    """Write with the artifact's own file size in ``report["file_bytes"]`` (stored
    uncompressed, so the size moves only with the number's digits: rewrite until equal)."""
    report["file_bytes"] = 0
    path = write(artifact, out, report, force)
    for _ in range(4):
        size = path.stat().st_size
        if size == report["file_bytes"]:
            break
        report["file_bytes"] = size + len(str(size)) - len(str(report["file_bytes"]))
        path = write(artifact, out, report, True)
    return path
