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
import hashlib
import importlib.util
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import MODES, ROOT, read_json, write_json  # noqa: E402

RECIPES = ROOT / "tests" / "user_models.py"
TARGETS = {"seq2seq": ("sentence_agreement", 0.98), "classifier": ("label_agreement", 0.99)}
FULL = dict(pairs=8000, rows=5000, val=400, test=500, epochs=30, patience=3, budget_s=170.0,
            lr=3e-3, seed=0, seq2seq_units=64, text_units=32)
QUICK = dict(pairs=900, rows=800, val=100, test=100, epochs=2, patience=1, budget_s=60.0,
             lr=1e-2, seed=0, seq2seq_units=16, text_units=16)
QUICK_MODES = ("float32", "int8")
TRAIN_REVISION = 1  # bump when fit() or a style trains differently for the same options


@dataclass
class Case:
    """A trained user model, ready to export and compare.

    Attributes:
        style: Row name in the report.
        kind: ``seq2seq`` or ``classifier``.
        recipe: One line describing the model.
        export: ``export(out, quantize=..., force=..., validate=...)`` → export summary.
        inputs: Test inputs given to the runtime (texts, or rows [N, F]).
        reference: The user's Keras model on them (greedy ids, or label indices).
        truth: The task's answers (ids, or label indices).
        train: Training record.
        labels: Class names in output order (classifiers).
    """

    style: str
    kind: str
    recipe: str
    export: Callable[..., dict[str, Any]]
    inputs: Any
    reference: list
    truth: list
    train: dict[str, Any]
    labels: list[str] = field(default_factory=list)


def recipes() -> Any:
    """``tests/user_models.py`` (the issue-12 builders), imported once under its own name."""
    name = "user_model_recipes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RECIPES)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _split(n: int, opts: dict[str, Any]) -> tuple[slice, slice, slice]:
    """Train / validation / test slices: the last ``test`` rows test, the ``val`` before
    them validate (EarlyStopping and the export gate)."""
    test, val = min(opts["test"], n // 5), min(opts["val"], n // 5)
    return slice(0, n - val - test), slice(n - val - test, n - test), slice(n - test, n)


def _cut(row: Any, eos: int) -> list[int]:
    row = [int(x) for x in row]
    return row[:row.index(eos)] if eos in row else [x for x in row if x]


# -- training, cached ---------------------------------------------------------------------

def _budget_callback(seconds: float) -> Any:
    import keras

    class Budget(keras.callbacks.Callback):
        """Stops training after ``seconds`` of wall time (checked at each epoch's end)."""

        def __init__(self) -> None:
            super().__init__()
            self.start, self.hit = time.perf_counter(), False

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if time.perf_counter() - self.start > seconds:
                self.model.stop_training = self.hit = True

    return Budget()


def fit(model: Any, x: Any, y: Any, val: tuple, loss: Any, opts: dict[str, Any]) -> dict:
    """Adam, EarlyStopping on the validation loss (best weights restored), LR halving on
    plateaus, a wall-time budget; what happened."""
    import keras

    model.compile(keras.optimizers.Adam(opts["lr"]), loss)
    stop = keras.callbacks.EarlyStopping(patience=opts["patience"], restore_best_weights=True)
    budget = _budget_callback(opts["budget_s"])
    plateau = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=1e-4)
    t0 = time.perf_counter()
    hist = model.fit(x, y, validation_data=val, batch_size=64, epochs=opts["epochs"],
                     verbose=0, callbacks=[stop, plateau, budget]).history
    losses = hist["val_loss"]
    stopped = ("early stopping" if stop.stopped_epoch else "time budget" if budget.hit
               else "epoch limit")
    return {"epochs_run": len(losses), "best_epoch": int(np.argmin(losses)) + 1,
            "val_loss": round(float(min(losses)), 4),
            "train_loss": round(float(hist["loss"][-1]), 4), "stopped_by": stopped,
            "fit_seconds": round(time.perf_counter() - t0, 1), "train_examples": len(y)}


def cached(out: Path, style: str, opts: dict[str, Any], train: Callable[[], tuple],
           save: Callable[[Any, Path], Path], load: Callable[[Path], Any]) -> tuple[Any, dict]:
    """The trained model of ``style`` from ``out/user_models`` when its key (style, options,
    :data:`TRAIN_REVISION`, the recipes' source) matches, else ``train()`` and save it;
    ``(model, record)``."""
    h = hashlib.sha256(json.dumps({"style": style, "revision": TRAIN_REVISION, **opts},
                                  sort_keys=True).encode())
    h.update(RECIPES.read_bytes())
    stem = out / "user_models" / f"{style}-{h.hexdigest()[:12]}"
    record = read_json(stem.with_suffix(".json"))
    if record and (stem.parent / record["file"]).is_file():
        return load(stem.parent / record["file"]), dict(record["train"], cached=True)
    stem.parent.mkdir(parents=True, exist_ok=True)
    model, summary = train()
    path = save(model, stem)
    write_json(stem.with_suffix(".json"), {"style": style, "options": opts, "train": summary,
                                           "file": path.name})
    return model, dict(summary, cached=False)


def _save_keras(model: Any, stem: Path) -> Path:
    path = stem.with_name(stem.name + ".keras")
    model.save(path)
    return path


def _load_keras(path: Path) -> Any:
    import keras

    um = recipes()
    um.POOLING = um.POOLING or um._pooling_class()  # registers the custom pooling layers
    return keras.saving.load_model(path, compile=False)


# -- the four styles ----------------------------------------------------------------------

def _dates(opts: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    """Encoded dates pairs (the recipes' tokenizers) and the same pairs as text."""
    from edge_attn.data.tasks import TASKS

    um = recipes()
    data = um.dates_data(opts["pairs"], opts["seed"])
    pairs = [(a, b) for a, b in TASKS["dates"].generate(opts["pairs"], opts["seed"])
             if len(a) <= um.S]
    assert [a for a, _ in pairs] == data.texts
    return data, pairs


def _seq2seq_case(style: str, recipe: str, export: Callable, data: Any, pairs: list,
                  ref_fn: Callable, train: dict, opts: dict[str, Any]) -> Case:
    tr, va, te = _split(len(pairs), opts)
    rows = pairs[tr][:200] + pairs[va]  # calibrate on training pairs, validate on val
    eos = data.tgt_tok.EOS_ID
    return Case(style, "seq2seq", recipe,
                partial(export, source_vocab=data.src_tok, target_vocab=data.tgt_tok,
                        examples=rows),
                [a for a, _ in pairs[te]], ref_fn(data.source[te]),
                [_cut(r, eos) for r in data.target_out[te]], train)


def functional_cases(out: Path, opts: dict[str, Any], cell: str = "lstm",
                     bidirectional: bool = True, attention: str = "dot",
                     style: str = "functional") -> list[Case]:
    """Style 1: a functional teacher-forced seq2seq on dates, its encode/step derived."""
    import keras

    from edge_attn.export.user_api import export_seq2seq
    from edge_attn.export.user_endpoints import teacher_forced_greedy

    um = recipes()
    data, pairs = _dates(opts)
    tr, va, _ = _split(len(pairs), opts)
    units = opts["seq2seq_units"]

    def train() -> tuple[Any, dict]:
        keras.utils.set_random_seed(opts["seed"])
        model = um.functional_seq2seq(data.src_tok.vocab_size, data.tgt_tok.vocab_size, cell,
                                      bidirectional, attention, units=units)
        return model, fit(model, [data.source[tr], data.target_in[tr]], data.target_out[tr],
                          ([data.source[va], data.target_in[va]], data.target_out[va]),
                          "sparse_categorical_crossentropy", opts)

    model, record = cached(out, style, dict(opts, cell=cell, bidirectional=bidirectional,
                                            attention=attention), train, _save_keras,
                           _load_keras)
    tgt = data.tgt_tok
    layer = {"dot": "Attention", "additive": "AdditiveAttention"}.get(attention, attention)
    recipe = (f"{'bi' if bidirectional else ''}{cell.upper()} {units} encoder, {cell.upper()} "
              f"decoder (initial_state), {layer}, Concatenate, Dense softmax")
    ref = partial(teacher_forced_greedy, model, bos=tgt.BOS_ID, eos=tgt.EOS_ID, max_len=um.T)
    return [_seq2seq_case(style, recipe, partial(export_seq2seq, model=model), data, pairs,
                          ref, record, opts)]


def callable_cases(out: Path, opts: dict[str, Any]) -> list[Case]:
    """Style 2: the TF NMT tutorial's subclassed Encoder / Decoder / Bahdanau (W1, W2, V)
    through the callable API (``encode=``, ``step=``, ``owners=``)."""
    import keras

    from edge_attn.export.user_api import export_seq2seq
    from edge_attn.export.user_callables import CallableSeq2Seq
    from edge_attn.export.user_endpoints import pair_greedy

    um = recipes()
    data, pairs = _dates(opts)
    tr, va, _ = _split(len(pairs), opts)
    units = opts["seq2seq_units"]

    def build() -> tuple:
        keras.utils.set_random_seed(opts["seed"])
        return um.tutorial_nmt(data.src_tok.vocab_size, data.tgt_tok.vocab_size, units)

    def train() -> tuple[Any, dict]:
        parts = build()
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        return parts, fit(parts[2], [data.source[tr], data.target_in[tr]], data.target_out[tr],
                          ([data.source[va], data.target_in[va]], data.target_out[va]),
                          loss, opts)

    def save(parts: tuple, stem: Path) -> Path:
        path = stem.with_name(stem.name + ".weights.h5")
        parts[2].save_weights(path)
        return path

    def load(path: Path) -> tuple:
        parts = build()
        parts[2]([data.source[:1], data.target_in[:1]])  # create the variables
        parts[2].load_weights(path)
        return parts

    (enc, dec, _), record = cached(out, "callable", opts, train, save, load)

    def encode(tokens, mask):
        return enc(tokens)

    def step(token, h, memory, mask):
        return dec(token[:, None], h, memory)

    pair = CallableSeq2Seq(encode, step, owners=[enc, dec], source_len=um.S,
                           max_target_len=um.T)
    tgt = data.tgt_tok
    export = partial(export_seq2seq, encode=encode, step=step, owners=[enc, dec],
                     source_len=um.S, max_target_len=um.T)
    recipe = (f"subclassed Encoder (GRU {units}) / Decoder (GRU, Bahdanau W1 W2 V), "
              "encode= / step= / owners=")
    return [_seq2seq_case("callable", recipe, export, data, pairs,
                          lambda source: pair_greedy(pair, source, tgt.BOS_ID, tgt.EOS_ID,
                                                     um.T), record, opts)]


def tabular_cases(out: Path, opts: dict[str, Any]) -> list[Case]:
    """Style 3: Dense(F, softmax, name="feature_attention") → Multiply → sigmoid head, on
    the column task."""
    import keras

    from edge_attn.export.user_api import export_classifier
    from edge_attn.runtime import constants as C

    um = recipes()
    x, y = um.column_data(opts["rows"], opts["seed"])
    tr, va, te = _split(len(y), opts)

    def train() -> tuple[Any, dict]:
        keras.utils.set_random_seed(opts["seed"])
        model = um.tabular_classifier(x.shape[1])
        return model, fit(model, x[tr], y[tr], (x[va], y[va]), "binary_crossentropy", opts)

    model, record = cached(out, "tabular", opts, train, _save_keras, _load_keras)
    rows = [[str(k), *r.tolist()] for r, k in zip(np.concatenate([x[tr][:200], x[va]]),
                                                   np.concatenate([y[tr][:200], y[va]]))]
    export = partial(export_classifier, model=model, kind=C.TABULAR_CLASSIFIER,
                     attention="feature_attention", labels=["0", "1"], examples=rows)
    ref = (np.asarray(model(x[te]))[:, 0] > 0.5).astype(int).tolist()
    recipe = (f"{x.shape[1]} features → Dense softmax 'feature_attention' → Multiply → "
              "Dense 16 → Dense(1, sigmoid)")
    return [Case("tabular", "classifier", recipe, export, x[te], ref, y[te].tolist(), record,
                 ["0", "1"])]


def text_cases(out: Path, opts: dict[str, Any]) -> list[Case]:
    """Style 4: Embedding → biGRU → attention-pooling custom layer → Dense, on date-lang;
    as written (``attention_weights``, its own -1e9 masking) and, same weights, with
    ``attention_scores`` (export masks the scores itself)."""
    import keras

    from edge_attn.export.user_api import export_classifier
    from edge_attn.runtime import constants as C

    um = recipes()
    texts, ids, y, tok, names = um.date_lang_data(opts["rows"], 24, opts["seed"])
    tr, va, te = _split(len(y), opts)
    units = opts["text_units"]

    def train() -> tuple[Any, dict]:
        keras.utils.set_random_seed(opts["seed"])
        model = um.text_classifier(tok.vocab_size, len(names), 24, units)
        return model, fit(model, ids[tr], y[tr], (ids[va], y[va]),
                          "sparse_categorical_crossentropy", opts)

    model, record = cached(out, "text", opts, train, _save_keras, _load_keras)
    scored = um.text_classifier(tok.vocab_size, len(names), 24, units, scores=True)
    scored.set_weights(model.get_weights())
    rows = [[names[k], t] for t, k in zip(texts[tr][:200] + texts[va],
                                          np.concatenate([y[tr][:200], y[va]]))]
    cases = []
    for style, m, how in (("text", model, "attention_weights (own -1e9 masking)"),
                          ("text-scores", scored, "attention_scores (export masks)")):
        export = partial(export_classifier, model=m, kind=C.TEXT_CLASSIFIER, vocab=tok,
                         labels=names, examples=rows)
        ref = np.asarray(m(ids[te])).argmax(-1).tolist()
        recipe = f"char Embedding → biGRU {units} → AttentionPooling, {how} → Dense softmax"
        cases.append(Case(style, "classifier", recipe, export, texts[te], ref, y[te].tolist(),
                          record, names))
    return cases


STYLES: dict[str, Callable[[Path, dict[str, Any]], list[Case]]] = {
    "functional": functional_cases,
    "functional-gru": partial(functional_cases, cell="gru", bidirectional=False,
                              attention="additive", style="functional-gru"),
    "callable": callable_cases,
    "tabular": tabular_cases,
    "text": text_cases,
}


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
