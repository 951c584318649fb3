"""A mixed-precision artifact (int8 with the attention and the output projection kept in
float, and a vocabulary shortlist) runs on the runtime's backend — ai-edge-litert in the
main environment, tflite-runtime 2.14 in the runtime-only one — and decodes like Keras."""

from __future__ import annotations

import json

from edge_attn.runtime import load_model, read_artifact


def test_mixed_int8_decodes_like_keras(pipeline):
    path = pipeline["dates-int8-mixed"]
    report = read_artifact(path).validation
    assert report["passed"] and report["keep_float"] == ["attention", "output"]
    assert {"SOFTMAX", "LOG_SOFTMAX", "BATCH_MATMUL"} <= set(report["float_ops"])
    expected = json.loads(pipeline["expected"].read_text(encoding="utf-8"))["seq2seq_greedy"]
    texts = list(expected)[:200]
    tr = load_model(path)
    assert tr.has_shortlist
    full = [t.ids for t in tr.translate(texts, shortlist=False)]
    same = sum(got == expected[t] for t, got in zip(texts, full))
    assert same >= 0.98 * len(texts), same
    short = [t.ids for t in tr.translate(texts)]  # decode_step_shortlist with float islands
    assert sum(a == b for a, b in zip(full, short)) >= 0.85 * len(texts)
    (beam,) = tr.translate(texts[0], beam=3)
    assert beam.ids == expected[texts[0]]
