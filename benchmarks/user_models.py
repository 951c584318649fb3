"""User Keras models (issue 12): agreement with the user's model per style and quantization mode.

``python benchmarks/user_models.py --out build/bench [--quick] [--json]`` (``make bench-user``).

1. Models: the issue-12 recipes as ``tests/user_models.py`` builds them — a functional
   teacher-forced seq2seq (biLSTM + ``Attention``; a GRU + ``AdditiveAttention`` variant), the
   TF NMT tutorial's subclassed Encoder / Decoder / Bahdanau exported through the callable
   API, a tabular feature-attention classifier (sigmoid head) and a text classifier with an
   attention-pooling custom layer (its own ``-1e9`` masking, and the same weights through
   ``attention_scores``). Each is trained on its built-in task to convergence (EarlyStopping
   on the validation loss, a time budget per style) and cached in ``--out/user_models`` as a
   ``.keras`` file (the subclassed one as ``.weights.h5``), keyed by style and options.
2. Export: every quantization mode through ``edge_attn.export.export_seq2seq`` /
   ``export_classifier`` with the default validation gate (calibration on training
   examples, validation on the validation split). A failed gate is recorded and the
   artifact exported again without it, so it is measured anyway.
3. Measure: each artifact loaded with ``edge_attn.runtime.load_model`` on the held-out test
   split, against the user's own Keras model — seq2seq: greedy sentence and token agreement
   with the teacher-forced model fed its own greedy outputs (the callables' step loop for
   the callable API), exact match against the task's answers; classifiers: label agreement
   and accuracy.

Targets (issue 12): int8 greedy sentence agreement ≥ 0.98, int8 label agreement ≥ 0.99.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import MODES, write_json  # noqa: E402
from user_styles import FULL, QUICK, QUICK_MODES, STYLES, TARGETS, Case  # noqa: E402

# -- export, measure, report --------------------------------------------------------------

def export_gated(case: Case, path: Path, mode: str) -> dict[str, Any]:
    """Export ``mode`` with the default validation gate; on a failed gate record it and
    export again without the gate. Sizes, gate verdict, edge-attn warnings, seconds."""
    from edge_attn.runtime.errors import EdgeAttnError, ValidationError

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            try:
                summary = case.export(path, quantize=mode, force=True)
            except ValidationError as exc:
                summary = case.export(path, quantize=mode, force=True, validate=False)
                summary["validation"] = {"passed": False, "mismatches": exc.mismatches}
        except EdgeAttnError as exc:
            return {"error": f"{type(exc).__name__}: {exc}"[:500]}
    gate = summary["validation"]
    own = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen
                  if w.category.__module__.startswith("edge_attn")
                  and w.category.__name__ != "NoValidationWarning"})
    metrics = gate.get("metrics") or {}
    return {"artifact": summary["artifact"], "model_bytes": summary["bytes"],
            "file_bytes": summary["file_bytes"], "gate_passed": gate["passed"],
            "gate_metric": gate.get("metric"), "gate_mismatches": gate.get("mismatches"),
            "gate_agreement": metrics.get("sentence_agreement", metrics.get("label_agreement")),
            "warnings": own, "export_seconds": round(time.perf_counter() - t0, 1)}


def runtime_outputs(case: Case, artifact: str) -> list:
    """The artifact's greedy ids / label indices on the test inputs, through the runtime."""
    from edge_attn.runtime import load_model

    model = load_model(artifact, num_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TruncationWarning: the model saw the same cut
        if case.kind == "seq2seq":
            return [t.ids for t in model.translate(case.inputs, batch_size=64)]
        return [case.labels.index(p.label) for p in model.predict(case.inputs)]


def agreement(case: Case, got: list) -> dict[str, float]:
    """Agreement with the user's Keras model and the score against the task's answers."""
    if case.kind == "classifier":
        return {"label_agreement": float(np.mean([a == b for a, b in zip(got, case.reference)])),
                "accuracy": float(np.mean([a == b for a, b in zip(got, case.truth)]))}
    same = total = 0
    for a, b in zip(case.reference, got):
        same += sum(x == y for x, y in zip(a, b))
        total += max(len(a), len(b), 1)
    return {"sentence_agreement": float(np.mean([a == b for a, b in zip(got, case.reference)])),
            "token_agreement": same / total,
            "exact_match": float(np.mean([a == b for a, b in zip(got, case.truth)]))}


def measure(case: Case, out: Path, modes: tuple[str, ...]) -> dict[str, Any]:
    """Every mode of one case: export record and runtime agreement on the test split."""
    score = "accuracy" if case.kind == "classifier" else "exact_match"
    keras_score = float(np.mean([a == b for a, b in zip(case.reference, case.truth)]))
    res: dict[str, Any] = {"kind": case.kind, "recipe": case.recipe, "train": case.train,
                           "test_examples": len(case.truth), "keras": {score: keras_score},
                           "modes": {}}
    for mode in modes:
        rec = export_gated(case, out / "user_models" / f"{case.style}-{mode}.eatt", mode)
        if "artifact" in rec:
            rec.update(agreement(case, runtime_outputs(case, rec["artifact"])))
        res["modes"][mode] = rec
        print(f"{case.style} {mode}: " + json.dumps({k: v for k, v in rec.items()
                                                    if k not in ("artifact", "warnings")}),
              file=sys.stderr, flush=True)
    return res


def targets(styles: dict[str, Any]) -> dict[str, Any]:
    """Issue 12's int8 targets, met or missed per style."""
    out = {}
    for name, res in styles.items():
        metric, limit = TARGETS[res["kind"]]
        value = res["modes"].get("int8", {}).get(metric)
        out[name] = {"metric": metric, "min": limit, "int8": value,
                     "met": value is not None and value >= limit}
    return out


def run(out: Path, quick: bool, styles: list[str]) -> dict[str, Any]:
    opts, modes = (QUICK, QUICK_MODES) if quick else (FULL, MODES)
    t0 = time.perf_counter()
    res: dict[str, Any] = {"quick": quick, "options": opts, "modes": list(modes),
                           "styles": {}, "load_average_at_start": list(os.getloadavg())}
    for name in styles:
        s0 = time.perf_counter()
        for case in STYLES[name](out, opts):
            res["styles"][case.style] = measure(case, out, modes)
            res["styles"][case.style]["style_seconds"] = round(time.perf_counter() - s0, 1)
    res["targets"] = targets(res["styles"])
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def _f(v: Any, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def render(res: dict[str, Any]) -> str:
    """``user_models.md``: training, then one row per style and mode, then the targets."""
    lines = ["# User Keras models (issue 12)", "",
             f"{'Quick smoke run' if res['quick'] else 'Full run'}: {res['seconds']:.0f} s "
             f"wall; options {json.dumps(res['options'])}.", "", "## Training", "",
             "| style | recipe | train examples | test examples | epochs (best) | stopped by | "
             "val loss | fit s | cached |", "|---|---|---|---|---|---|---|---|---|"]
    for name, s in res["styles"].items():
        t = s["train"]
        lines.append(f"| {name} | {s['recipe']} | {t['train_examples']} | "
                     f"{s['test_examples']} | {t['epochs_run']} ({t['best_epoch']}) | "
                     f"{t['stopped_by']} | {t['val_loss']} | {t['fit_seconds']} | "
                     f"{t['cached']} |")
    lines += ["", "## Runtime artifacts vs the user's Keras model (test split)", "",
              "Agreement: greedy sentences identical to Keras's (seq2seq) or labels (classifiers)."
              " Score: exact match (seq2seq) or accuracy against the task's answers.", "",
              "| style | mode | agreement | token agreement | Keras score | artifact score | "
              "artifact bytes (model) | × float32 | gate passed | export s |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in res["styles"].items():
        base = s["modes"].get("float32", {}).get("file_bytes")
        keras_score = next(iter(s["keras"].values()))
        for mode, r in s["modes"].items():
            if "error" in r:  # no artifact: the message goes in the gate column
                lines.append(f"| {name} | {mode} | export failed | - | {_f(keras_score)} | - "
                             f"| - | - | {r['error'][:200]} | - |")
                continue
            agree = r.get("sentence_agreement", r.get("label_agreement"))
            score = r.get("exact_match", r.get("accuracy"))
            ratio = r["file_bytes"] / base if base else None
            gate = "yes" if r["gate_passed"] else "no: " + "; ".join(r["gate_mismatches"] or [])
            lines.append(f"| {name} | {mode} | {_f(agree)} | {_f(r.get('token_agreement'))} | "
                         f"{_f(keras_score)} | {_f(score)} | {r['file_bytes']:,} "
                         f"({r['model_bytes']:,}) | "
                         f"{_f(ratio, '.2f')} | {gate} | {r['export_seconds']} |")
    shown = [f"{n} {t['metric'].replace('_', ' ')} {_f(t['int8'])} ≥ {t['min']} "
             f"{'met' if t['met'] else 'MISSED'}" for n, t in res["targets"].items()]
    lines += ["", "Targets (int8): " + "; ".join(shown) + "."]
    notes = sorted({w for s in res["styles"].values() for r in s["modes"].values()
                    for w in r.get("warnings", [])})
    if notes:
        lines += ["", "Export warnings:", *[f"- {w}" for w in notes]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/bench"))
    ap.add_argument("--quick", action="store_true",
                    help="tiny data, 1-2 epochs, float32 and int8 only (a smoke run)")
    ap.add_argument("--styles", default=",".join(STYLES),
                    help=f"comma-separated subset of {', '.join(STYLES)}")
    ap.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    args = ap.parse_args(argv)
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    unknown = [s for s in styles if s not in STYLES]
    if unknown:
        ap.error(f"unknown style {unknown[0]!r}; choose from {', '.join(STYLES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    res = run(args.out.resolve(), args.quick, styles)
    write_json(args.out / "user_models.json", res)
    md = render(res)
    (args.out / "user_models.md").write_text(md, encoding="utf-8")
    print(json.dumps(res, indent=1, default=str) if args.json else md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
