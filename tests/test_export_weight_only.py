"""Weight-only export modes (``int4-weights``, ``int8-weights``) through ai-edge-quantizer.

A tiny dates seq2seq is trained here (≈40 s, independent of the shared pipeline fixtures),
exported in float32 and both weight-only modes, and checked: the flatbuffer's weights
(fully connected, embedding tables) really are INT4 / INT8, the runtime's greedy tokens
agree with float32 on the test split, the artifact is smaller, and int4 is refused with a
clear error on the backend that cannot run it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge_attn.export.convert import op_names
from edge_attn.export.examples import load_examples
from edge_attn.export.pipeline import export
from edge_attn.export.quantization import quant_config
from edge_attn.export.weight_only import QUANTIZER_HINT, before_convert
from edge_attn.runtime import backend as backend_mod
from edge_attn.runtime import load_model, read_artifact
from edge_attn.runtime.errors import BackendError, ExportError
from edge_attn.training.checkpoint import load_checkpoint

WEIGHT_ONLY = {"int4-weights": "INT4", "int8-weights": "INT8"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"ckpt": dir, "float32": path, "int4-weights": path, ...}`` and the summaries."""
    from edge_attn.training import TrainOptions, train

    root = tmp_path_factory.mktemp("weight_only")
    ckpt = root / "ckpt"
    train(TrainOptions(kind="seq2seq", task="dates", examples=3000, epochs=12, units=32,
                       embed_dim=16, batch_size=32, out=str(ckpt), verbose=0))
    out: dict = {"ckpt": ckpt, "summary": {}}
    for mode in ("float32", *WEIGHT_ONLY):
        out[mode] = root / f"{mode}.eatt"
        out["summary"][mode] = export(ckpt, out[mode], mode)
    return out


def _weights(model: bytes, through: list | None = None) -> list[tuple[str, str, int]]:
    """``(op, tensor type, rows)`` of the constant weight operand of every FULLY_CONNECTED
    and table GATHER, looking through a DEQUANTIZE in front of it (all subgraphs); the ops read
    through a DEQUANTIZE are appended to ``through``."""
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    ops = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    found = []
    for g in m.subgraphs:
        code = [ops[max(m.operatorCodes[o.opcodeIndex].builtinCode,
                        m.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)]
                for o in g.operators]
        producer = {t: (i, op) for i, op in enumerate(g.operators) for t in op.outputs}
        for name, op in zip(code, g.operators):
            slot = {"FULLY_CONNECTED": 1, "GATHER": 0}.get(name)
            if slot is None:
                continue
            t = op.inputs[slot]
            if t in producer and code[producer[t][0]] == "DEQUANTIZE":
                t = producer[t][1].inputs[0]
                if through is not None:
                    through.append(name)
            data = m.buffers[g.tensors[t].buffer].data
            if data is not None and len(data) and len(g.tensors[t].shape) == 2:
                found.append((name, types[g.tensors[t].type], int(g.tensors[t].shape[0])))
    return found


@pytest.mark.parametrize("mode", WEIGHT_ONLY)
def test_weights_really_quantized(exported: dict, mode: str) -> None:
    art = read_artifact(exported[mode])
    assert art.quantization == mode
    through: list[str] = []
    weights = _weights(art.model_bytes, through)
    assert {op for op, _, _ in weights} == {"FULLY_CONNECTED", "GATHER"}  # tables covered
    # int4: FULLY_CONNECTED reads int4/int8 directly (fast XNNPACK kernels), tables dequantized
    assert set(through) == ({"GATHER"} if mode == "int4-weights" else {"FULLY_CONNECTED",
                                                                        "GATHER"})
    if mode == "int4-weights":  # int4: vocabulary-sized weights (tables, output); int8: rest
        tables = {rows for op, _, rows in weights if op == "GATHER"}
        want = [(op, "INT4" if rows in tables else "INT8", rows) for op, _, rows in weights]
        assert weights == want and {t for _, t, _ in weights} == {"INT4", "INT8"}
        assert any(op == "FULLY_CONNECTED" and t == "INT4" for op, t, _ in weights)  # output
    else:
        assert {t for _, t, _ in weights} == {"INT8"}, weights
    names = op_names(art.model_bytes)
    assert "DEQUANTIZE" in names and "EMBEDDING_LOOKUP" not in names
    float_weights = _weights(read_artifact(exported["float32"]).model_bytes)
    assert len(weights) == len(float_weights)
    assert {t for _, t, _ in float_weights} == {"FLOAT32"}


@pytest.mark.parametrize("mode", WEIGHT_ONLY)
def test_runtime_agrees_with_float32_and_is_smaller(exported: dict, mode: str,
                                                     record_property) -> None:
    texts = load_examples(load_checkpoint(exported["ckpt"]), None, "test").texts
    ref = [t.ids for t in load_model(exported["float32"]).translate(texts)]
    got = [t.ids for t in load_model(exported[mode]).translate(texts)]
    same = sum(a == b for x, y in zip(got, ref) for a, b in zip(x, y))
    agreement = same / sum(max(len(x), len(y)) for x, y in zip(got, ref))
    ratio = exported[mode].stat().st_size / exported["float32"].stat().st_size
    record_property(f"{mode}_token_agreement", agreement)
    record_property(f"{mode}_size_ratio", ratio)
    assert agreement >= 0.95, (mode, agreement, len(texts))
    # tiny model: graph and per-channel scales weigh more than the weights themselves
    assert ratio < (0.5 if mode == "int4-weights" else 0.6), ratio
    report = exported["summary"][mode]["validation"]
    assert report["passed"] and report["mode"] == mode


def test_int4_smaller_than_int8(exported: dict) -> None:
    assert exported["int4-weights"].stat().st_size < exported["int8-weights"].stat().st_size


def test_int4_refused_on_tflite_runtime(exported: dict, monkeypatch) -> None:
    """tflite-runtime 2.14's DEQUANTIZE has no INT4 kernel: a clear error before loading."""
    real = backend_mod.get_backend("ai-edge-litert")
    fake = backend_mod.Backend(backend_mod.TFLITE_RUNTIME, "2.14.0", real.module)
    monkeypatch.setattr(backend_mod, "get_backend", lambda name=None: fake)
    with pytest.raises(BackendError, match="int4-weights.*ai-edge-litert.*tflite-runtime"):
        load_model(exported["int4-weights"])
    backend_mod.check_mode("int8-weights")  # int8 weight-only runs on both backends


def test_missing_quantizer_has_pip_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_quantizer", None)
    with pytest.raises(ExportError, match=QUANTIZER_HINT.replace("[", r"\[").replace("]", r"\]")):
        before_convert(quant_config("int4-weights"))
    assert before_convert(quant_config("float32")).mode.value == "float32"  # not needed


def test_weight_only_modes_need_no_calibration(tmp_path: Path) -> None:
    for mode in WEIGHT_ONLY:
        quant = quant_config(mode)
        assert not quant.calibrate and before_convert(quant).mode.value == "float32"


def _synthetic_float_model() -> tuple[bytes, object, object]:
    """A float32 TFLite model with a 2,000 × 64 embedding table and a 64 × 1,024 dense
    layer (> 256 KiB of weights: the quantizer then stores buffers outside the flatbuffer)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    table = tf.constant(rng.normal(size=(2000, 64)).astype("float32"))
    kernel = tf.constant(rng.normal(size=(64, 1024)).astype("float32") / 8)

    @tf.function(input_signature=[tf.TensorSpec([3, 5], tf.int32)])
    def run(ids):
        return {"out": tf.matmul(tf.reduce_mean(tf.gather(table, ids), axis=1), kernel)}

    conv = tf.lite.TFLiteConverter.from_concrete_functions([run.get_concrete_function()], run)
    return conv.convert(), table.numpy(), kernel.numpy()


def test_large_model_weights_inline_and_close_to_float() -> None:
    import numpy as np

    from edge_attn.export.compact import strip_tensor_names
    from edge_attn.export.weight_only import weight_only

    model, table, kernel = _synthetic_float_model()
    model = strip_tensor_names(model)  # as convert() hands it over
    ids = np.random.default_rng(1).integers(0, 2000, size=(3, 5)).astype(np.int32)
    want = table[ids].mean(axis=1) @ kernel
    interp = backend_mod.get_backend("ai-edge-litert").module.Interpreter
    # int4: the 2,000-row table in int4, the dense layer (1,024 rows: not vocabulary-sized)
    # in int8
    for mode, bits, tol in (("int8-weights", {"INT8"}, 0.02),
                            ("int4-weights", {"INT4", "INT8"}, 0.25)):
        q = weight_only(model, quant_config(mode))
        assert len(q) < len(model) * (0.3 if mode == "int8-weights" else 0.25), (mode, len(q))
        assert {t for _, t, _ in _weights(q)} == bits
        if mode == "int4-weights":
            assert ("GATHER", "INT4", 2000) in _weights(q)
        it = interp(model_content=q)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], ids)
        it.invoke()
        got = it.get_tensor(it.get_output_details()[0]["index"])
        rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        assert rel < tol, (mode, rel)  # relative RMS error (measured: int8 0.009, int4 0.16)
