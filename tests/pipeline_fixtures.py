"""Build the test artifacts with the project's own pipeline: ``train`` then ``export``.

Tiny, fast models on the built-in tasks (seconds each). The Keras model's own outputs are
written to ``expected.json`` next to the artifacts, so the runtime-only environment (no
TensorFlow) can compare the runtime against Keras. Run directly to pre-build a folder:
``python tests/pipeline_fixtures.py build/fixtures``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
# name -> (kind, TrainOptions overrides)
CHECKPOINTS = {
    # The target vocabulary is capped so that rare years become <unk> (exercises replace-unk).
    "dates": ("seq2seq", dict(task="dates", examples=6000, epochs=12, units=48, embed_dim=24,
                              batch_size=32, attention="additive", patience=3,
                              max_target_vocab=100)),
    "lstm": ("seq2seq", dict(task="dates", examples=6000, epochs=12, units=48, embed_dim=24,
                             batch_size=32, cell="lstm", attention="general", patience=3)),
    "text": ("text-classifier", dict(task="date-lang", examples=3000, epochs=5, units=16,
                                     embed_dim=16, max_len=10)),
    "tabular": ("tabular-classifier", dict(task="column", examples=2000, epochs=8, units=16)),
}
ARTIFACTS = [("dates", "float32"), ("dates", "int8"), ("text", "float32"), ("text", "int8"),
             ("tabular", "float32"), ("tabular", "int8")]
# Seq2seq artifacts with a vocabulary shortlist learned from the held-out validation pairs,
# small enough (8 frequent + 6 per source token) that it really restricts the ~100 targets.
SHORTLIST_ARTIFACTS = [("dates", "float32"), ("dates", "int8")]
SHORTLIST_SIZE = (8, 6)
# The same float32 shortlist artifact as export wrote it before the shortlist head, and
# before the shortlist step's in-graph top-k.
LEGACY_SHORTLIST = ("dates", "float32-shortlist-prehead")
NO_TOP_SHORTLIST = ("dates", "float32-shortlist-notop")
# int8 with the attention and the output projection kept in float (mixed precision), with
# the shortlist too: the runtime-only environment checks that it runs on tflite-runtime.
MIXED_ARTIFACT = ("dates", "int8-mixed", ("attention", "output"))
# Users' own Keras models (issue 12), exported through the user API in these modes, all
# four styles of tests/user_models.py: a functional seq2seq (bidirectional GRU,
# AdditiveAttention), the TF NMT tutorial's subclassed Encoder/Decoder through the callable
# API, a text classifier with an attention-pooling layer and a feature-attention tabular
# classifier (sigmoid head). The runtime-only environment runs them on tflite-runtime
# against the Keras outputs stored in expected.json.
USER_MODES = ("float32", "float16", "dynamic", "int8", "int16x8")
USER_MODELS = ("user-seq2seq", "user-callable", "user-text", "user-tabular")
USER_ARTIFACTS = [(name, mode) for name in USER_MODELS for mode in USER_MODES]


def source_key() -> str:
    """Hash of every source file that shapes the fixtures (a changed file rebuilds them)."""
    h = hashlib.sha256()
    for folder in ("edge_attn", "export", "runtime"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            h.update(f.relative_to(ROOT).as_posix().encode() + f.read_bytes())
    for name in ("pipeline_fixtures.py", "user_models.py", "legacy_shortlist.py"):
        h.update((ROOT / "tests" / name).read_bytes())
    return h.hexdigest()[:16]


# Probe inputs the runtime tests use by name (PROBES[0] and [1] must fit the source length).
PROBES = ["the 3rd of March, 2021", "mercredi 14 juillet 1965", "12/25/49", "1. Mai 2033"]


def _expected(ckpts: dict[str, Path]) -> dict:
    """Keras's own greedy ids / probabilities (the independent reference for the runtime).

    ``seq2seq_greedy``: {text: ids} for the probes and the held-out test sentences;
    ``text_probs``: {text: class probabilities}; ``tabular``: one row and its probabilities.
    """
    import numpy as np

    from edge_attn.export.examples import load_examples
    from edge_attn.training.checkpoint import load_checkpoint
    from edge_attn.training.greedy import keras_greedy
    from edge_attn.training.prepare import pad

    ck = load_checkpoint(ckpts["dates"])
    ex = load_examples(ck, None, "test")
    src = ck.tokenizers["source"]
    s_len = ck.config["max_source_len"]
    texts = PROBES + ex.texts
    ids, _ = keras_greedy(ck.model, pad([src.encode(t, add_eos=False) for t in texts], s_len))
    out: dict = {"seq2seq_greedy": dict(zip(texts, ids))}
    ck = load_checkpoint(ckpts["text"])
    ex = load_examples(ck, None, "test").head(20)
    probs = np.asarray(ck.model.classify(ex.inputs)[0]).tolist()
    out["text_probs"] = dict(zip(ex.texts, probs))
    ck = load_checkpoint(ckpts["tabular"])
    ex = load_examples(ck, None, "test").head(1)
    out["tabular"] = {"row": ex.inputs[0].tolist(),
                      "probs": np.asarray(ck.model.classify(ex.inputs)[0])[0].tolist()}
    return out


def _test_module(name: str):
    """tests/NAME.py as the module ``name`` (the name the tests load it by)."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{name}.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _user_artifacts(tmp: Path) -> dict:
    """Train the four user models briefly, export :data:`USER_ARTIFACTS`, return the Keras
    references: greedy ids of the teacher-forced model fed its own outputs (of the callables
    for the subclassed one), class probabilities; and the quantized artifacts' outputs on
    ai-edge-litert, for the other backend."""
    import warnings

    import keras
    import numpy as np

    from edge_attn.data.tasks import TASKS
    from edge_attn.export import export_classifier, export_seq2seq
    from edge_attn.export.user_callables import CallableSeq2Seq
    from edge_attn.export.user_endpoints import pair_greedy, teacher_forced_greedy
    from edge_attn.runtime import load_model

    um = _test_module("user_models")
    data = um.dates_data(1500)
    pairs = [(a, b) for a, b in TASKS["dates"].generate(1500, 0) if len(a) <= um.S]
    model = um.train_seq2seq(um.functional_seq2seq(
        data.src_tok.vocab_size, data.tgt_tok.vocab_size, "gru", True, "additive"), data,
        epochs=6)
    texts = [a for a, _ in pairs[-40:]]  # all fit the source length S
    source = um._pad([data.src_tok.encode(t, add_eos=False) for t in texts], um.S)
    out: dict = {"user_seq2seq_greedy": dict(zip(texts, teacher_forced_greedy(
        model, source, data.tgt_tok.BOS_ID, data.tgt_tok.EOS_ID, um.T)))}
    c_texts, ids, y, tok, names = um.date_lang_data(1500)
    clf = um.train_classifier(um.text_classifier(tok.vocab_size, len(names), 24, scores=True),
                              ids[:1200], y[:1200], epochs=4)
    fit = [i for i in range(1200, len(y)) if len(tok.encode(c_texts[i], add_eos=False)) <= 24]
    rows = [[names[int(y[i])], c_texts[i]] for i in fit]
    held = fit[-40:]
    out["user_text_probs"] = dict(zip([c_texts[i] for i in held],
                                      np.asarray(clf(ids[held])).tolist()))
    enc, dec, trainer = um.tutorial_nmt(data.src_tok.vocab_size, data.tgt_tok.vocab_size)
    keras.utils.set_random_seed(0)
    trainer.compile(keras.optimizers.Adam(0.01),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainer.fit([data.source, data.target_in], data.target_out, batch_size=64, epochs=8,
                verbose=0)
    callables = dict(encode=lambda tokens, mask: enc(tokens),
                     step=lambda token, h, memory, mask: dec(token[:, None], h, memory),
                     owners=[enc, dec], source_len=um.S, max_target_len=um.T)
    pair = CallableSeq2Seq(**callables)
    out["user_callable_greedy"] = dict(zip(texts, pair_greedy(
        pair, source, data.tgt_tok.BOS_ID, data.tgt_tok.EOS_ID, um.T)))
    x, labels = um.column_data(1500)
    tab = um.train_classifier(um.tabular_classifier(x.shape[1]), x[:1200], labels[:1200])
    tab_rows = [[str(int(v)), *map(float, row)] for v, row in zip(labels[1200:], x[1200:])]
    p1 = np.asarray(tab(x[-40:]))[:, 0]
    out["user_tabular_probs"] = {"rows": x[-40:].tolist(),
                                 "probs": np.stack([1 - p1, p1], 1).tolist()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # briefly trained: quantized modes unvalidated
        for name, mode in USER_ARTIFACTS:
            dest, gate = tmp / f"{name}-{mode}.eatt", mode == "float32"
            common = dict(quantize=mode, validate=gate)
            if name == "user-seq2seq":
                export_seq2seq(dest, model=model, source_vocab=data.src_tok,
                               target_vocab=data.tgt_tok, examples=pairs[-300:], **common)
            elif name == "user-callable":
                export_seq2seq(dest, source_vocab=data.src_tok, target_vocab=data.tgt_tok,
                               examples=pairs[-300:], **callables, **common)
            elif name == "user-text":
                export_classifier(dest, model=clf, kind="text-classifier",
                                  examples=rows, labels=names, vocab=tok, **common)
            else:
                export_classifier(dest, model=tab, kind="tabular-classifier",
                                  examples=tab_rows, labels=["0", "1"], **common)
    litert = "ai-edge-litert"
    for mode in USER_MODES[1:]:
        for name in ("seq2seq", "callable"):
            out[f"user_{name}_{mode}_litert"] = {t.source: t.ids for t in load_model(
                tmp / f"user-{name}-{mode}.eatt", backend=litert).translate(texts)}
        out[f"user_tabular_{mode}_litert"] = [[r.probs[n] for n in ("0", "1")] for r in
                                              load_model(tmp / f"user-tabular-{mode}.eatt",
                                                         backend=litert).predict(x[-40:])]
        out[f"user_text_{mode}_litert"] = {r.source: [r.probs[n] for n in names] for r in
                                           load_model(tmp / f"user-text-{mode}.eatt",
                                                      backend=litert).predict(
                                               [c_texts[i] for i in held])}
    return out


def build(out: Path) -> dict[str, Path]:
    """Train and export every fixture into ``out`` (atomically: a temp dir renamed)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edge_attn.export.pipeline import export
    from edge_attn.training import TrainOptions, train

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fixtures-", dir=out.parent))
    try:
        ckpts = {}
        for name, (kind, opts) in CHECKPOINTS.items():
            ckpts[name] = tmp / f"{name}-ckpt"
            train(TrainOptions(kind=kind, out=str(ckpts[name]), verbose=0, **opts))
        for name, mode in ARTIFACTS:
            export(ckpts[name], tmp / f"{name}-{mode}.eatt", mode)
        pairs = tmp / "shortlist-pairs.tsv"
        rows = json.loads((ckpts["dates"] / "heldout.json").read_text())["validation"]
        pairs.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
        for name, mode in SHORTLIST_ARTIFACTS:
            export(ckpts[name], tmp / f"{name}-{mode}-shortlist.eatt", mode,
                   shortlist_data=str(pairs), shortlist_size=SHORTLIST_SIZE)
        with _test_module("legacy_shortlist").legacy_shortlist_export():
            export(ckpts[LEGACY_SHORTLIST[0]], tmp / ("-".join(LEGACY_SHORTLIST) + ".eatt"),
                   "float32", shortlist_data=str(pairs), shortlist_size=SHORTLIST_SIZE)
        with _test_module("legacy_shortlist").no_top_export():
            export(ckpts[NO_TOP_SHORTLIST[0]], tmp / ("-".join(NO_TOP_SHORTLIST) + ".eatt"),
                   "float32", shortlist_data=str(pairs), shortlist_size=SHORTLIST_SIZE)
        name, label, keep = MIXED_ARTIFACT
        export(ckpts[name], tmp / f"{name}-{label}.eatt", "int8", keep_float=keep,
               shortlist_data=str(pairs), shortlist_size=SHORTLIST_SIZE)
        expected = {**_expected(ckpts), **_user_artifacts(tmp)}
        (tmp / "expected.json").write_text(json.dumps(expected, ensure_ascii=False))
        (tmp / MANIFEST).write_text(json.dumps({"key": source_key()}))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return paths(out)


def paths(folder: Path) -> dict[str, Path]:
    """Named paths inside a fixture folder."""
    p: dict[str, Path] = {f"{n}_ckpt": folder / f"{n}-ckpt" for n in CHECKPOINTS}
    p.update({f"{n}-{m}": folder / f"{n}-{m}.eatt" for n, m in ARTIFACTS})
    p.update({f"{n}-{m}-shortlist": folder / f"{n}-{m}-shortlist.eatt"
              for n, m in SHORTLIST_ARTIFACTS})
    for legacy in (LEGACY_SHORTLIST, NO_TOP_SHORTLIST):
        p["-".join(legacy)] = folder / ("-".join(legacy) + ".eatt")
    p[f"{MIXED_ARTIFACT[0]}-{MIXED_ARTIFACT[1]}"] = (
        folder / f"{MIXED_ARTIFACT[0]}-{MIXED_ARTIFACT[1]}.eatt")
    p.update({f"{n}-{m}": folder / f"{n}-{m}.eatt" for n, m in USER_ARTIFACTS})
    p["expected"] = folder / "expected.json"
    return p


def is_current(folder: Path) -> bool:
    """The folder holds fixtures built from the current sources."""
    try:
        return json.loads((folder / MANIFEST).read_text())["key"] == source_key()
    except (OSError, ValueError, KeyError):
        return False


if __name__ == "__main__":
    build(Path(sys.argv[1]))
