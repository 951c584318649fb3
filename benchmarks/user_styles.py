"""The issue-12 model styles of :mod:`user_models`, trained to convergence and cached.

Built with the recipes of ``tests/user_models.py`` (functional teacher-forced seq2seq and a
GRU/AdditiveAttention variant, the TF NMT tutorial through the callable API, tabular feature
attention, text attention pooling); each becomes one or more :class:`Case` — the model, its
export call and the reference outputs on the test split. Trained models are cached in
``--out/user_models`` (``.keras``; the subclassed one as ``.weights.h5``; no pickle).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, read_json, write_json

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
