"""``edge-attn export MODEL.keras`` end to end: user files in, artifact out, runtime reads it.

The user's side is plain Keras: TextVectorization vocabularies ('' = pad, '[UNK]', specials
``[start]`` / ``[end]`` at ids chosen by Keras), a model saved as ``.keras``, custom layers
in their own module. Reference = the user's Keras model.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_attn.data.tasks import TASKS
from edge_attn.export.user_api import export_keras_file
from edge_attn.export.user_endpoints import teacher_forced_greedy
from edge_attn.runtime import constants as C
from edge_attn.runtime import load_model
from edge_attn.runtime.errors import EdgeAttnError, ExportError, InputError


def _helpers():
    name = "user_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            "user_models.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


um = _helpers()
SPECIALS = "pad=,unk=[UNK],bos=[start],eos=[end]"


def _write_vocab(path: Path, vocab: list[str]) -> str:
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def keras_seq2seq(tmp_path_factory):
    """A dates model trained on TextVectorization ids, saved like a user would."""
    import keras

    tmp = tmp_path_factory.mktemp("user_seq2seq")
    pairs = [(a, b) for a, b in TASKS["dates"].generate(1200, 0) if len(a) <= um.S]
    src_tv = keras.layers.TextVectorization(standardize="lower", split="character",
                                            output_sequence_length=um.S)
    src_tv.adapt([a for a, _ in pairs])
    tgt_tv = keras.layers.TextVectorization(standardize="lower", split="character")
    tgt_tv.adapt([b for _, b in pairs])
    tgt_vocab = [str(t) for t in tgt_tv.get_vocabulary()] + ["[start]", "[end]"]
    bos, eos = len(tgt_vocab) - 2, len(tgt_vocab) - 1
    tgt_tv.set_vocabulary(tgt_vocab[2:])  # Keras re-adds '' and '[UNK]'
    source = np.asarray(src_tv([a for a, _ in pairs]), "int32")
    body = [np.asarray(tgt_tv([b]))[0].tolist() + [eos] for _, b in pairs]
    t_out = np.array([r + [0] * (um.T - len(r)) for r in body], "int32")
    t_in = np.concatenate([np.full((len(pairs), 1), bos, "int32"), t_out[:, :-1]], 1)
    t_in[t_in == eos] = 0
    data = um.Seq2SeqData([a for a, _ in pairs], source, t_in, t_out, None, None)
    model = um.train_seq2seq(um.functional_seq2seq(len(src_tv.get_vocabulary()),
                                                   len(tgt_vocab)), data, epochs=3)
    model.save(tmp / "dates.keras")
    (tmp / "pairs.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in pairs[-300:]),
                                   encoding="utf-8")
    return {"dir": tmp, "model": model, "pairs": pairs[-300:], "bos": bos, "eos": eos,
            "source": source[-300:],
            "src": _write_vocab(tmp / "src.txt", [str(t) for t in src_tv.get_vocabulary()]),
            "tgt": _write_vocab(tmp / "tgt.txt", tgt_vocab)}


def _export(fx, out, **kw):
    args = dict(kind=C.SEQ2SEQ, source_vocab=fx["src"], target_vocab=fx["tgt"],
                specials=SPECIALS, calibration_data=str(fx["dir"] / "pairs.tsv"),
                standardize="lower", split="character")
    args.update(kw)
    return export_keras_file(fx["dir"] / "dates.keras", out, **args)


def test_functional_seq2seq_file_to_translator(keras_seq2seq, tmp_path, cli_main) -> None:
    from click.testing import CliRunner

    fx = keras_seq2seq
    summary = _export(fx, tmp_path / "dates.eatt")
    assert summary["validation"]["passed"]
    shown = CliRunner().invoke(cli_main, ["inspect", summary["artifact"]]).output
    assert "lowered: attention (Attention) -1e9 masking → masked softmax" in shown
    assert summary["validation"]["metrics"]["sentence_agreement"] == 1.0
    translator = load_model(summary["artifact"])
    texts = [a for a, _ in fx["pairs"][:50]]
    got = translator.translate(texts)
    ref = teacher_forced_greedy(fx["model"], fx["source"][:50], fx["bos"], fx["eos"], um.T)
    assert [t.ids for t in got] == ref
    assert got[0].attention.shape[1] == len(texts[0])  # one column per source character
    assert got[0].attention.shape[0] == len(got[0].ids)
    from edge_attn.export.pipeline import NoValidationWarning

    with pytest.warns(NoValidationWarning):  # a 3-epoch model: the figure is printed
        q = _export(fx, tmp_path / "dates-int8.eatt", quantize="int8", validate=False)
    q_ids = [t.ids for t in load_model(q["artifact"]).translate(texts)]
    print(f"int8 sentence agreement {np.mean([a == b for a, b in zip(q_ids, ref)]):.3f}")


def test_bad_inputs_write_nothing(keras_seq2seq, tmp_path) -> None:
    fx = keras_seq2seq
    out = tmp_path / "bad.eatt"
    with pytest.raises(InputError, match="not in the vocabulary: bos='<s>'"):
        _export(fx, out, specials="pad=,unk=[UNK],bos=<s>,eos=[end]")
    with pytest.raises(InputError, match="source vocabulary has .* embedding has"):
        _export(fx, out, source_vocab=fx["tgt"])
    with pytest.raises(InputError, match="custom module .*nope.py not found"):
        _export(fx, out, custom_module=str(tmp_path / "nope.py"))
    with pytest.raises(InputError, match="not a functional Keras classifier with one input"):
        _export(fx, out, kind=C.TABULAR_CLASSIFIER, attention_layer="nope")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_unsupported_graph_file(tmp_path) -> None:
    import keras

    src = keras.Input((um.S,), dtype="int32")
    tgt = keras.Input((um.T,), dtype="int32")
    x = keras.layers.Embedding(20, 8)(src)
    y = keras.layers.MultiHeadAttention(2, 4)(keras.layers.Embedding(20, 8)(tgt), x)
    keras.Model([src, tgt], keras.layers.Dense(20, activation="softmax")(y)).save(
        tmp_path / "transformer.keras")
    vocab = _write_vocab(tmp_path / "v.txt", ["", "[UNK]", "[start]", "[end]",
                                              *[chr(97 + i) for i in range(16)]])
    (tmp_path / "p.tsv").write_text("ab\tba\n", encoding="utf-8")
    with pytest.raises(ExportError, match="Transformer.*callable API"):
        export_keras_file(tmp_path / "transformer.keras", tmp_path / "t.eatt",
                          kind=C.SEQ2SEQ, source_vocab=vocab, target_vocab=vocab,
                          specials=SPECIALS, calibration_data=str(tmp_path / "p.tsv"))
    assert not (tmp_path / "t.eatt").exists()


def test_text_classifier_with_custom_module(tmp_path) -> None:
    """The pooling layer lives in the user's module; without it the model cannot load."""
    import keras

    module = tmp_path / "my_layers.py"
    module.write_text(Path(__file__).with_name("user_models.py").read_text(encoding="utf-8")
                      + "\nPOOLING = _pooling_class()\n", encoding="utf-8")
    texts, ids, y, tok, names = um.date_lang_data(n=900)
    model = um.train_classifier(um.text_classifier(tok.vocab_size, len(names), 24,
                                                   scores=True), ids[:700], y[:700], epochs=2)
    model.save(tmp_path / "lang.keras")
    registry = keras.saving.get_custom_objects()
    saved = dict(registry)
    registry.clear()  # as in a fresh process: the user's class is not registered
    try:
        _export_with_and_without_module(tmp_path, module, texts, y, tok, names)
    finally:
        registry.update(saved)  # later tests deserialize edge-attn's own layers


def _export_with_and_without_module(tmp_path, module, texts, y, tok, names) -> None:
    rows = tmp_path / "rows.tsv"
    rows.write_text("".join(f"{names[k]}\t{t}\n" for t, k in zip(texts[700:], y[700:])),
                    encoding="utf-8")
    vocab = _write_vocab(tmp_path / "vocab.txt", tok.vocab)
    args = dict(kind=C.TEXT_CLASSIFIER, vocab=vocab, labels=",".join(names),
                specials="pad=<pad>,unk=<unk>", calibration_data=str(rows),
                standardize="lower", split="character")
    with pytest.raises(InputError, match="ScoredPooling.*--custom-module"):
        export_keras_file(tmp_path / "lang.keras", tmp_path / "lang.eatt", **args)
    summary = export_keras_file(tmp_path / "lang.keras", tmp_path / "lang.eatt",
                                custom_module=str(module), **args)
    assert summary["validation"]["metrics"]["label_agreement"] == 1.0
    clf = load_model(summary["artifact"])
    assert clf.labels == names
    pred = clf.predict([texts[-1]])[0]
    assert pred.attention.shape == (len(texts[-1]),)


def test_tabular_classifier_file(tmp_path) -> None:
    x, y = um.column_data(n=1200)
    model = um.train_classifier(um.tabular_classifier(x.shape[1]), x[:900], y[:900])
    model.save(tmp_path / "tab.keras")
    rows = tmp_path / "rows.csv"
    rows.write_text("".join(",".join([str(k), *map(str, r)]) + "\n"
                            for r, k in zip(x[900:], y[900:])), encoding="utf-8")
    summary = export_keras_file(tmp_path / "tab.keras", tmp_path / "tab.eatt",
                                kind=C.TABULAR_CLASSIFIER, attention_layer="feature_attention",
                                labels="no,yes", calibration_data=str(rows), quantize="int8")
    metrics = summary["validation"]["metrics"]
    print(f"tabular int8 label agreement {metrics['label_agreement']:.3f}")
    assert metrics["label_agreement"] >= 0.99
    pred = load_model(summary["artifact"]).predict([x[950].tolist()])[0]
    assert pred.label in ("no", "yes") and pred.attention.shape == (x.shape[1],)


def test_not_an_attention_model(tmp_path) -> None:
    import keras

    inp = keras.Input((8,))
    keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp)).save(
        tmp_path / "plain.keras")
    (tmp_path / "r.csv").write_text("0,1,2,3,4,5,6,7,8\n", encoding="utf-8")
    with pytest.raises(EdgeAttnError, match="which layer is the attention"):
        export_keras_file(tmp_path / "plain.keras", tmp_path / "p.eatt",
                          kind=C.TABULAR_CLASSIFIER, calibration_data=str(tmp_path / "r.csv"))
    assert not (tmp_path / "p.eatt").exists()


def test_cli_exports_a_keras_file(cli_main, tmp_path) -> None:
    """`edge-attn export MODEL.keras --kind ...`, then `classify` and `inspect` on it."""
    import json

    from click.testing import CliRunner

    x, y = um.column_data(n=600)
    model = um.train_classifier(um.tabular_classifier(x.shape[1]), x[:400], y[:400], epochs=2)
    model.save(tmp_path / "tab.keras")
    rows = tmp_path / "rows.csv"
    rows.write_text("".join(",".join([str(k), *map(str, r)]) + "\n"
                            for r, k in zip(x[400:], y[400:])), encoding="utf-8")
    out = tmp_path / "tab.eatt"
    runner = CliRunner()
    res = runner.invoke(cli_main, ["export", str(tmp_path / "tab.keras"), "-o", str(out),
                                   "--kind", "tabular-classifier", "--labels", "no,yes",
                                   "--calibration-data", str(rows), "--json"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["kind"] == \
        C.TABULAR_CLASSIFIER
    info = json.loads(runner.invoke(cli_main, ["inspect", str(out), "--json"]).output)
    assert info["config"]["model"]["attention_layer"] == "feature_attention"
    res = runner.invoke(cli_main, ["export", str(tmp_path / "tab.keras"), "-o",
                                   str(tmp_path / "x.eatt"), "--calibration-data", str(rows)])
    assert res.exit_code != 0 and "give --kind" in res.output
    assert not (tmp_path / "x.eatt").exists()
