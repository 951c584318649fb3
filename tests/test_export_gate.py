"""The validation gate on the task metric (issue 13): per-mode tolerances on ΔBLEU / ΔchrF
and Δaccuracy / Δmacro-F1, the chrF fallback, sacrebleu's figures, ``--no-validate``
reports, the int16x8 speed note and mixed precision (``keep_float``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edge_attn.export.convert import op_summary
from edge_attn.export.pipeline import NoValidationWarning, export
from edge_attn.export.quantization import TOLERANCES, Mode, quant_config
from edge_attn.export.specs import load_examples
from edge_attn.export.task_metrics import classifier_scores, macro_f1
from edge_attn.export.validate import gate
from edge_attn.runtime import Translator, read_artifact
from edge_attn.runtime.errors import ExportError, InputError
from edge_attn.runtime.profile import compare, render_table, speed_note
from edge_attn.training.checkpoint import load_checkpoint
from edge_attn.training.greedy import keras_greedy


def _seq2seq(bleu_delta: float, chrf_delta: float = 0.0, keras_bleu: float = 30.0,
             sentences: float = 0.9, tokens: float = 0.95) -> dict[str, float]:
    return {"max_abs_diff": 0.4, "mean_abs_diff": 1e-3, "attention_argmax_agreement": 0.9,
            "token_agreement": tokens, "sentence_agreement": sentences,
            "keras_bleu": keras_bleu, "tflite_bleu": keras_bleu + bleu_delta,
            "bleu_delta": bleu_delta, "keras_chrf": 50.0, "tflite_chrf": 50.0 + chrf_delta,
            "chrf_delta": chrf_delta}


def _verdict(mode: str, metrics: dict, examples: int = 500,
             agreement: str = "token_agreement") -> dict:
    return gate(metrics, TOLERANCES[Mode(mode)], examples, agreement)


@pytest.mark.parametrize("delta, passing", [
    (0.0, {"float16", "dynamic", "int8", "int16x8"}),
    (-0.3, {"dynamic", "int8", "int16x8"}),
    (-0.8, {"int8"}),
    (-1.2, set()),
])
def test_bleu_gate_per_mode(delta: float, passing: set) -> None:
    """Quantized modes: only ΔBLEU / ΔchrF gate; agreement 0.76 and max |Δp| 0.4 do not."""
    for mode in ("float16", "dynamic", "int8", "int16x8"):
        v = _verdict(mode, _seq2seq(delta, tokens=0.76, sentences=0.3))
        assert v["gate"] == "bleu" and v["gate_reason"] is None
        assert (not v["mismatches"]) == (mode in passing), (mode, v["mismatches"])
        assert v["task_metrics"]["bleu"] == {"keras": 30.0, "artifact": 30.0 + delta,
                                             "delta": delta,
                                             "min_delta": TOLERANCES[Mode(mode)].bleu_delta}
    # chrF gates too
    assert _verdict("int8", _seq2seq(0.0, chrf_delta=-1.5))["mismatches"][0].startswith("ΔchrF")


def test_float32_still_needs_identical_tokens() -> None:
    exact = {**_seq2seq(0.0, tokens=1.0, sentences=1.0), "max_abs_diff": 1e-6,
             "mean_abs_diff": 1e-8, "attention_argmax_agreement": 1.0}
    assert not _verdict("float32", exact)["mismatches"]
    v = _verdict("float32", {**exact, "token_agreement": 0.999})
    assert v["mismatches"] == ["token agreement 0.9990 < 1.0"]
    assert any("max |Δ|" in m for m in _verdict("float32", {**exact, "max_abs_diff": 0.01})[
        "mismatches"])
    assert _verdict("float32", _seq2seq(-0.2, tokens=1.0))["mismatches"]


def test_chrf_fallback_when_bleu_is_unstable() -> None:
    weak = _seq2seq(-4.0, chrf_delta=-0.5, keras_bleu=3.0, sentences=0.7)
    v = _verdict("int8", weak)
    assert v["gate"] == "chrf" and "Keras BLEU 3.00 < 5" in v["gate_reason"]
    assert not v["mismatches"] and set(v["task_metrics"]) == {"chrf"}  # ΔBLEU -4 ignored
    v = _verdict("int8", {**weak, "sentence_agreement": 0.4})
    assert v["mismatches"] == ["sentence agreement 0.4000 < 0.5"]
    v = _verdict("int8", {**weak, "chrf_delta": -1.5, "tflite_chrf": 48.5})
    assert len(v["mismatches"]) == 1 and v["mismatches"][0].startswith("ΔchrF -1.5")
    few = _verdict("int8", _seq2seq(-3.0, keras_bleu=40.0), examples=40)
    assert few["gate"] == "chrf" and "40 examples < 50" in few["gate_reason"]
    assert not few["mismatches"]


def test_classifier_gate() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 1, 0, 1] * 20)
    keras = labels.copy()
    keras[:10] = (labels[:10] + 1) % 3  # Keras accuracy 0.95
    base = {"max_abs_diff": 0.3, "mean_abs_diff": 1e-3, "attention_argmax_agreement": 0.5,
            "label_agreement": 0.98}
    one_flip, three = keras.copy(), keras.copy()
    one_flip[50] = (one_flip[50] + 1) % 3
    three[50:53] = (three[50:53] + 1) % 3
    ok = {**base, **classifier_scores(keras, one_flip, labels, 3)}
    assert ok["accuracy_delta"] == pytest.approx(-0.005)
    v = _verdict("int8", ok, 200, "label_agreement")
    assert v["gate"] == "accuracy" and not v["mismatches"]
    bad = {**base, **classifier_scores(keras, three, labels, 3)}
    v = _verdict("int8", bad, 200, "label_agreement")
    assert v["mismatches"][0].startswith("Δaccuracy -0.015")
    # float32 must agree on every label
    v = _verdict("float32", {**ok, "max_abs_diff": 0.0, "mean_abs_diff": 0.0,
                             "attention_argmax_agreement": 1.0}, 200, "label_agreement")
    assert "label agreement 0.9800 < 1.0" in v["mismatches"]
    same = {**base, **classifier_scores(keras, keras, labels, 3), "label_agreement": 0.99}
    v = _verdict("float32", {**same, "max_abs_diff": 0.0, "mean_abs_diff": 0.0,
                             "attention_argmax_agreement": 1.0}, 200, "label_agreement")
    assert v["mismatches"] == ["label agreement 0.9900 < 1.0"]  # Δaccuracy 0 is not enough


def test_macro_f1_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0, 1, 1, 1])
    # class 0: tp 1 fp 0 fn 1 -> 2/3; class 1: tp 2 fp 1 fn 0 -> 4/5
    assert macro_f1(p, y, 3) == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_keep_float_only_with_int8() -> None:
    assert quant_config("int8", "attention, output").keep_float == ("attention", "output")
    with pytest.raises(InputError, match="int8"):
        quant_config("dynamic", ("attention",))


def test_int8_fixtures_pass_on_the_task_metric(pipeline: dict) -> None:
    """The tiny fixtures' int8 artifacts were validated by the gate: BLEU / chrF for the
    seq2seq model, accuracy / macro-F1 for the classifiers."""
    dates = read_artifact(pipeline["dates-int8"]).validation
    print("dates int8", dates["task_metrics"])
    assert dates["passed"] and dates["gate"] == "bleu" and dates["metric"] == "bleu"
    assert dates["metrics"]["keras_bleu"] >= 5 and dates["examples"] >= 50
    for name in ("bleu", "chrf"):
        t = dates["task_metrics"][name]
        assert t["delta"] == pytest.approx(t["artifact"] - t["keras"], abs=1e-3)
        assert t["delta"] >= t["min_delta"] == -1.0
    assert dates["references"].startswith("lowercased")  # the dates tokenizer lowercases
    for name in ("text-int8", "tabular-int8"):
        rep = read_artifact(pipeline[name]).validation
        print(name, rep["task_metrics"])
        assert rep["passed"] and rep["gate"] == "accuracy"
        assert set(rep["task_metrics"]) == {"accuracy", "macro_f1"}
        assert rep["metrics"]["tflite_accuracy"] > 0.5


def test_report_bleu_equals_an_independent_sacrebleu_call(pipeline: dict) -> None:
    import sacrebleu

    ckpt = load_checkpoint(pipeline["dates_ckpt"])
    ex = load_examples(ckpt, None, "test")
    tgt = ckpt.tokenizers["target"]
    keras = [tgt.decode(i) for i in keras_greedy(ckpt.model, ex.source)[0]]
    art = [tgt.decode(t.ids) for t in Translator.load(pipeline["dates-int8"]).translate(ex.texts)]
    stored = {b for _, b in ckpt.heldout["test"]}
    assert len(ex.references) == len(ex) and set(ex.references) <= stored  # as stored
    refs = [[r.lower() for r in ex.references]]
    rep = read_artifact(pipeline["dates-int8"]).validation["metrics"]
    assert rep["keras_bleu"] == pytest.approx(sacrebleu.corpus_bleu(keras, refs).score, abs=1e-4)
    assert rep["tflite_bleu"] == pytest.approx(sacrebleu.corpus_bleu(art, refs).score, abs=1e-4)
    assert rep["keras_chrf"] == pytest.approx(sacrebleu.corpus_chrf(keras, refs).score, abs=1e-4)
    assert rep["tflite_chrf"] == pytest.approx(sacrebleu.corpus_chrf(art, refs).score, abs=1e-4)


def test_no_validate_stores_sizes_ops_and_mode(pipeline: dict, tmp_path: Path) -> None:
    out = tmp_path / "t.eatt"
    with pytest.warns(NoValidationWarning):
        summary = export(pipeline["tabular_ckpt"], out, "int8", validate_model=False)
    rep = read_artifact(out).validation
    assert rep == summary["validation"] and rep["skipped"] is True and rep["mode"] == "int8"
    assert rep["file_bytes"] == out.stat().st_size == summary["file_bytes"]
    assert rep["model_bytes"] == summary["bytes"]
    art = read_artifact(out)
    assert rep["ops"] == op_summary(art.model_bytes)["ops"] and "FULLY_CONNECTED" in rep["ops"]
    assert "FULLY_CONNECTED" not in rep["float_ops"]  # int8 compute
    assert "passed" not in rep and "speed_note" not in rep


def test_int16x8_speed_note_in_summary_and_cli(pipeline: dict, tmp_path: Path) -> None:
    from edge_attn.cli.main import main

    out = tmp_path / "t.eatt"
    res = CliRunner().invoke(main, ["export", str(pipeline["tabular_ckpt"]), "-o", str(out),
                                    "--quantize", "int16x8", "--no-validate"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "runs on reference kernels: expect ~20× slower than int8" in res.output
    rep = read_artifact(out).validation
    assert rep["speed_note"] == speed_note("int16x8") and rep["mode"] == "int16x8"
    assert speed_note("int8") is None and speed_note(Mode.INT16X8) == rep["speed_note"]


def _result(name: str, quant: str, step: float, sentence: float) -> dict:
    return {"name": name, "path": name, "kind": "seq2seq", "quantization": quant,
            "file_bytes": 1000, "load_ms": 1.0, "rss_mb": {"delta": 1.0},
            "latency_us": {"encode": {"p50": 5.0, "p90": 5.0, "p99": 5.0},
                           "decode_step": {"p50": step, "p90": step, "p99": step}},
            "sentence": {"latency_us": {"p50": sentence}, "tokens_per_s": 10.0},
            "machine": {"cpu": "cpu", "machine": "x86_64", "cores": 2, "python": "3.11"},
            "backend": {"name": "b", "version": "1"}, "threads": 1, "batch": 1, "runs": 8}


def test_profile_shows_reference_kernels_and_measured_ratio() -> None:
    results = [_result("a.eatt", "int8", 62.0, 1000.0),
               _result("b.eatt", "int16x8", 1218.0, 15000.0)]
    rows = compare(results)
    assert "speed_note" not in rows[0]
    assert rows[1]["vs_int8"] == {"name": "a.eatt", "ratio": 15.0,
                                  "step_ratio": pytest.approx(1218 / 62)}
    text = render_table(results, rows)
    assert ("note: b.eatt (int16x8) runs on reference kernels: expect ~20× slower than int8 "
            "on the same model; measured here: 15.0× the latency of a.eatt (int8), decode "
            "step 19.6×") in text
    alone = render_table(results[1:], compare(results[1:]))
    assert "expect ~20× slower than int8" in alone and "measured here" not in alone


def test_mixed_precision_keeps_attention_float(pipeline: dict, tmp_path: Path) -> None:
    """int8 with keep_float=attention: the softmax / score ops are float32 in the
    flatbuffer, validation passes, and tokens agree at least as well as plain int8."""
    from tensorflow.lite.python import schema_py_generated as schema

    out = tmp_path / "m.eatt"
    summary = export(pipeline["dates_ckpt"], out, "int8", keep_float=("attention",))
    rep = summary["validation"]
    plain = read_artifact(pipeline["dates-int8"]).validation
    print("mixed", rep["metrics"], rep["float_ops"], "plain", plain["metrics"])
    assert rep["passed"] and rep["keep_float"] == ["attention"]
    assert {"SOFTMAX", "TANH", "BATCH_MATMUL"} <= set(rep["float_ops"])
    assert "SOFTMAX" not in plain["float_ops"] and "LOG_SOFTMAX" not in rep["float_ops"]
    assert rep["metrics"]["token_agreement"] >= plain["metrics"]["token_agreement"]
    model = read_artifact(out).model_bytes
    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    codes = {i: max(c.builtinCode, c.deprecatedBuiltinCode) for i, c in
             enumerate(m.operatorCodes)}
    for g in m.subgraphs:
        for op in g.operators:
            if codes[op.opcodeIndex] == schema.BuiltinOperator.SOFTMAX:
                assert all(g.tensors[i].type == schema.TensorType.FLOAT32
                           for i in (*op.inputs, *op.outputs))
            if codes[op.opcodeIndex] == schema.BuiltinOperator.LOG_SOFTMAX:
                assert g.tensors[op.inputs[0]].type == schema.TensorType.INT8
    assert len(model) < 0.5 * len(read_artifact(pipeline["dates-float32"]).model_bytes)


def test_mixed_precision_output_and_op_names(pipeline: dict, tmp_path: Path) -> None:
    out = tmp_path / "m.eatt"
    rep = export(pipeline["dates_ckpt"], out, "int8",
                 keep_float="output,SOFTMAX")["validation"]
    assert rep["passed"] and rep["keep_float"] == ["output", "SOFTMAX"]
    assert {"LOG_SOFTMAX", "FULLY_CONNECTED", "SOFTMAX"} <= set(rep["float_ops"])
    assert "TANH" not in rep["float_ops"]  # the attention score stays int8
    with pytest.raises(ExportError, match="not a part"):
        export(pipeline["dates_ckpt"], tmp_path / "x.eatt", "int8", keep_float="CONV_2D")
    assert not (tmp_path / "x.eatt").exists()


def test_cli_keep_float(pipeline: dict, tmp_path: Path) -> None:
    from edge_attn.cli.main import main

    out = tmp_path / "t.eatt"
    with warnings.catch_warnings():
        res = CliRunner().invoke(main, ["export", str(pipeline["dates_ckpt"]), "-o", str(out),
                                        "--quantize", "int8", "--keep-float", "attention",
                                        "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)["validation"]
    assert rep["keep_float"] == ["attention"] and "SOFTMAX" in rep["float_ops"]
    res = CliRunner().invoke(main, ["export", str(pipeline["dates_ckpt"]), "-o",
                                    str(tmp_path / "u.eatt"), "--keep-float", "attention"])
    assert res.exit_code == 1 and "int8" in res.output
