"""Train the text classifier (HAN pooling) or the tabular classifier (feature attention)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from edge_attn.data.prepare import pad
from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import DataError
from edge_attn.runtime.tokenizer import WordTokenizer

from .checkpoint import save_checkpoint
from .fit import compile_and_fit, distribution_scope
from .options import TrainOptions

HELDOUT_KEEP = 500
LABEL_COLUMN = 1  # the column task copies the label into column 1


def _labeled(opts: TrainOptions) -> tuple[list[tuple[str, str]], str]:
    if opts.task:
        from edge_attn.data.tasks import get_task, load_task

        if get_task(opts.task).kind != "text":
            raise DataError(f"task {opts.task!r} is not a text-classification task")
        return load_task(opts.task, opts.examples, opts.seed), f"task:{opts.task}"
    from edge_attn.data.tsv import read_labeled

    rows = read_labeled(opts.data)
    return (rows[: opts.examples] if opts.examples else rows), f"file:{opts.data}"


def _finish(opts, model, kind, origin, fit, metrics, hp_extra, tokenizers, heldout, n_params):
    config = {"kind": kind, "model": model.hp, "data": origin, "options": opts.to_dict(),
              "metrics": metrics, "training": fit, **hp_extra}
    path = save_checkpoint(opts.out, model, config, tokenizers, heldout, opts.force)
    return {"checkpoint": str(path), "kind": kind, "data": origin, "metrics": metrics,
            "epochs_run": fit["epochs_run"], "seconds": fit["seconds"], "params": n_params}


def train_text_classifier(opts: TrainOptions) -> dict[str, Any]:
    """Fit embedding → biGRU → HAN pooling → softmax on ``label⇥text`` data."""
    from edge_attn.data.split import split_list
    from edge_attn.models.text_classifier import TextClassifier

    keras.utils.set_random_seed(opts.seed)
    rows, origin = _labeled(opts)
    labels = sorted({label for label, _ in rows})
    if len(labels) < 2:
        raise DataError(f"{origin}: need at least two labels, found {labels}")
    train, val, test = split_list(rows, opts.seed)
    tok = WordTokenizer.build([t for _, t in train], min_freq=opts.min_freq,
                              max_size=opts.max_vocab)
    index = {label: i for i, label in enumerate(labels)}

    def arrays(part):
        x = pad([tok.encode(t, add_eos=False, max_len=opts.max_len) for _, t in part],
                opts.max_len)
        return x, np.array([index[label] for label, _ in part], dtype="int32")

    (xt, yt), (xv, yv), (xs, ys) = arrays(train), arrays(val), arrays(test)
    with distribution_scope():
        model = TextClassifier(tok.vocab_size, len(labels), opts.max_len, units=opts.units,
                               embed_dim=opts.embed_dim)
        model(xt[:2])
        fit = compile_and_fit(model, "sparse_categorical_crossentropy", ["accuracy"], xt, yt,
                              xv, yv, opts.epochs, opts.batch_size, opts.learning_rate,
                              opts.patience, opts.verbose)
    metrics = {f"{n}_accuracy": float((model.predict(x, verbose=0).argmax(-1) == y).mean())
               for n, x, y in (("validation", xv, yv), ("test", xs, ys)) if len(y)}
    heldout = {"validation": [list(r) for r in val[:HELDOUT_KEEP]],
               "test": [list(r) for r in test[:HELDOUT_KEEP]]}
    return _finish(opts, model, C.TEXT_CLASSIFIER, origin, fit, metrics,
                   {"labels": labels, "max_source_len": opts.max_len}, {"source": tok},
                   heldout, int(model.count_params()))


def train_tabular_classifier(opts: TrainOptions) -> dict[str, Any]:
    """Fit feature attention → dense → softmax on the ``column`` task or a numeric CSV."""
    from edge_attn.data.split import split_indices
    from edge_attn.models.tabular_classifier import TabularClassifier

    keras.utils.set_random_seed(opts.seed)
    if not opts.task:
        raise DataError("the tabular classifier trains on --task column "
                        "(numeric CSV input is not supported yet)")
    from edge_attn.data.tasks import get_task, load_task

    if get_task(opts.task).kind != "tabular":
        raise DataError(f"task {opts.task!r} is not a tabular task")
    x, y = load_task(opts.task, opts.examples, opts.seed)
    origin = f"task:{opts.task}"
    tr, va, te = split_indices(len(y), opts.seed)
    labels = [str(v) for v in sorted(set(y.tolist()))]
    with distribution_scope():
        model = TabularClassifier(x.shape[1], len(labels), units=opts.units)
        model(x[:2])
        fit = compile_and_fit(model, "sparse_categorical_crossentropy", ["accuracy"], x[tr],
                              y[tr], x[va], y[va], opts.epochs, opts.batch_size, opts.learning_rate,
                              opts.patience, opts.verbose)
    metrics = {}
    for name, idx in (("validation", va), ("test", te)):
        probs, att = model.classify(x[idx])
        metrics[f"{name}_accuracy"] = float((np.asarray(probs).argmax(-1) == y[idx]).mean())
        # Share of rows whose attention peaks on the column that carries the label.
        metrics[f"{name}_attention_on_label_column"] = float(
            (np.asarray(att).argmax(-1) == LABEL_COLUMN).mean())
    heldout = {name: [[str(int(y[i]))] + [float(v) for v in x[i]] for i in idx[:HELDOUT_KEEP]]
               for name, idx in (("validation", va), ("test", te))}
    names = [f"x{i}" for i in range(x.shape[1])]
    return _finish(opts, model, C.TABULAR_CLASSIFIER, origin, fit, metrics,
                   {"labels": labels, "feature_names": names}, {}, heldout,
                   int(model.count_params()))
