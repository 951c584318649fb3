"""Train and export the benchmark models with the project's own pipeline, cached in --out.

A checkpoint is reused when its recorded training options equal the requested ones; an
artifact is reused when it was exported from that very checkpoint (hash of its config) in the
same mode. Export validates against Keras; if validation fails (e.g. int8 of a briefly trained
model) the artifact is exported again without validation and the failure is recorded.
"""

from __future__ import annotations

import hashlib
import random
import warnings
from pathlib import Path
from typing import Any

from common import DATA, MODES, ROOT, read_json, write_json

# Bump when the models compute something different for the same options (2: the encoders no
# longer unroll; Keras's unrolled masked backward direction was wrong, see test_export_rnn_loop).
MODEL_REVISION = 2


def train_cached(out: Path, name: str, options: dict[str, Any],
                 verbose: int = 0, fit_revision: int = 1) -> dict[str, Any]:
    """Train ``name`` (TrainOptions fields in ``options``) unless cached; the summary.

    ``verbose`` is Keras's (2: one line per epoch) and is not part of the cache key;
    ``fit_revision`` is (raise it to retrain a model whose training the code changed)."""
    ckpt = out / f"{name}-ckpt"
    record = out / f"{name}-train.json"
    cached = read_json(record)
    if (cached and cached.get("options") == options
            and cached.get("model_revision") == MODEL_REVISION
            and cached.get("fit_revision", 1) == fit_revision
            and (ckpt / "config.json").is_file()):
        return dict(cached["summary"], cached=True)
    from edge_attn.training import TrainOptions, train

    summary = train(TrainOptions(out=str(ckpt), verbose=verbose, force=True, **options))
    write_json(record, {"options": options, "model_revision": MODEL_REVISION,
                        "fit_revision": fit_revision, "summary": summary})
    return dict(summary, cached=False)


def _ckpt_key(ckpt: Path) -> str:
    return hashlib.sha256((ckpt / "config.json").read_bytes()).hexdigest()[:16]


def _export_code_key() -> str:
    """Hash of the model, export and runtime sources: changed code re-exports (the model's
    layers shape the exported graph too)."""
    h = hashlib.sha256()
    for folder in ("edge_attn", "export", "runtime"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            h.update(f.relative_to(ROOT).as_posix().encode() + f.read_bytes())
    return h.hexdigest()[:16]


def export_cached(ckpt: Path, dest: Path, mode: str, validate: bool,
                  calibration_samples: int = 200, **options: Any) -> dict[str, Any]:
    """Export ``ckpt`` to ``dest`` in ``mode`` unless cached; the export summary.

    ``options`` are further keyword arguments of ``export`` (part of the cache key). A mode
    that cannot be exported gives ``{"error": ...}`` (recorded, not raised).
    """
    from edge_attn.export.pipeline import export
    from edge_attn.runtime.errors import EdgeAttnError, ValidationError

    record = dest.with_suffix(".export.json")
    key = {"checkpoint": _ckpt_key(ckpt), "mode": mode, "validate": validate,
           "calibration_samples": calibration_samples, "code": _export_code_key(),
           **options}
    cached = read_json(record)
    if cached and cached.get("key") == key and (dest.is_file() or "error" in cached["summary"]):
        return dict(cached["summary"], cached=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NoValidationWarning, TF deprecation notices
        try:
            try:
                summary = export(ckpt, dest, quantize=mode, force=True,
                                 validate_model=validate,
                                 calibration_samples=calibration_samples, **options)
            except ValidationError as exc:
                summary = export(ckpt, dest, quantize=mode, force=True, validate_model=False,
                                 calibration_samples=calibration_samples, **options)
                summary["validation"] = {"passed": False, "error": str(exc)[:500]}
        except EdgeAttnError as exc:
            dest.unlink(missing_ok=True)
            summary = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    write_json(record, {"key": key, "summary": summary})
    return dict(summary, cached=False)


def export_all(ckpt: Path, out: Path, stem: str, validate: bool,
               calibration_samples: int = 200,
               modes: tuple[str, ...] = MODES) -> dict[str, dict[str, Any]]:
    """Every quantization mode of one checkpoint: ``{mode: export summary}``."""
    return {m: export_cached(ckpt, out / f"{stem}-{m}.eatt", m, validate, calibration_samples)
            for m in modes}


def short_pairs_tsv(out: Path, n: int, max_words: int = 10, seed: int = 0) -> Path | None:
    """A fixed seeded sample of ``n`` eng-fra pairs with ≤ ``max_words`` words per side.

    Written into ``out`` (the data itself stays in ../shared/data, never in the repo).
    Returns None when ../shared/data/eng-fra.tsv is absent.
    """
    src = DATA / "eng-fra.tsv"
    if not src.is_file():
        return None
    dest = out / f"eng-fra-short-{n}-s{seed}.tsv"
    if dest.is_file():
        return dest
    pairs = []
    for line in src.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and all(0 < len(f.split()) <= max_words for f in fields[:2]):
            pairs.append(f"{fields[0].strip()}\t{fields[1].strip()}")
    random.Random(seed).shuffle(pairs)
    tmp = dest.with_suffix(".tmp")
    tmp.write_text("\n".join(pairs[:n]) + "\n", encoding="utf-8")
    tmp.replace(dest)
    return dest
