"""Artifacts of users' own Keras models (issue 12) on the runtime, in both environments.

Built by tests/pipeline_fixtures.py through the user API (``export_seq2seq(model=...)``,
``export_seq2seq(encode=, step=, owners=)``, ``export_classifier``) from
tests/user_models.py, in all five modes: a functional seq2seq (bidirectional GRU,
AdditiveAttention), the TF NMT tutorial's subclassed Encoder/Decoder, a text classifier
with an attention-pooling layer, a feature-attention tabular classifier. Reference = the
user's Keras model (greedy ids of the teacher-forced model fed its own outputs, or of the
callables; class probabilities), stored in expected.json; the quantized artifacts are
compared with their own outputs on ai-edge-litert (the runtime-only environment runs
tflite-runtime).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_attn.runtime import load_model


@pytest.fixture(scope="module")
def expected(pipeline) -> dict:
    return json.loads(pipeline["expected"].read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["seq2seq", "callable"])
def test_user_seq2seq_float32_equals_the_keras_model(pipeline, expected, name):
    want = expected[f"user_{name}_greedy"]
    tr = load_model(pipeline[f"user-{name}-float32"])
    got = tr.translate(list(want))
    assert [g.ids for g in got] == list(want.values())
    for g in got:
        assert g.attention.shape == (len(g.ids), len(g.source_tokens))
        if name == "seq2seq":  # masked: all the weight on the real tokens
            np.testing.assert_allclose(g.attention.sum(-1), 1.0, atol=1e-4)
        else:  # the tutorial's attention has no mask: some weight stays on the padding
            assert np.all(g.attention.sum(-1) <= 1.0 + 1e-4)
    beam = tr.translate(list(want)[:4], beam=3)
    assert all(b.score >= g.score - 1e-4 for b, g in zip(beam, got))


QUANTIZED = ["float16", "dynamic", "int8", "int16x8"]


@pytest.mark.parametrize("mode", QUANTIZED)
@pytest.mark.parametrize("name", ["seq2seq", "callable"])
def test_user_seq2seq_quantized_runs_on_this_backend(pipeline, expected, name, mode):
    want = expected[f"user_{name}_{mode}_litert"]
    got = load_model(pipeline[f"user-{name}-{mode}"]).translate(list(want))
    agree = np.mean([g.ids == w for g, w in zip(got, want.values())])
    keras = np.mean([g.ids == w for g, w in zip(got, expected[f"user_{name}_greedy"].values())])
    print(f"user {name} {mode}: {agree:.3f} sentences as on ai-edge-litert, {keras:.3f} as "
          "Keras")
    if (agree < 0.9 and (name, mode) == ("callable", "int16x8")
            and load_model(pipeline[f"user-{name}-{mode}"]).backend_name.startswith(
                "tflite-runtime")):
        pytest.xfail(f"known: tflite-runtime 2.14's int16x8 kernels decode the tutorial "
                     f"model differently from ai-edge-litert ({agree:.2f} sentences alike)")
    assert agree >= 0.9


def test_user_tabular_float32_equals_the_keras_model(pipeline, expected):
    want = expected["user_tabular_probs"]
    clf = load_model(pipeline["user-tabular-float32"])
    got = clf.predict(want["rows"])
    probs = np.array([[g.probs[n] for n in ("0", "1")] for g in got])
    np.testing.assert_allclose(probs, np.array(want["probs"]), atol=1e-5)
    for g in got:  # the named Dense softmax over the columns
        assert len(g.attention) == len(want["rows"][0])
        assert abs(float(np.sum(g.attention)) - 1.0) < 1e-4


@pytest.mark.parametrize("mode", QUANTIZED)
def test_user_tabular_quantized_runs_on_this_backend(pipeline, expected, mode):
    want = np.array(expected[f"user_tabular_{mode}_litert"])
    clf = load_model(pipeline[f"user-tabular-{mode}"])
    got = clf.predict(expected["user_tabular_probs"]["rows"])
    probs = np.array([[g.probs[n] for n in ("0", "1")] for g in got])
    assert np.mean(probs.argmax(-1) == want.argmax(-1)) >= 0.95
    assert np.abs(probs - want).max() < 0.1


def test_user_text_classifier_float32_equals_the_keras_model(pipeline, expected):
    want = expected["user_text_probs"]
    clf = load_model(pipeline["user-text-float32"])
    got = clf.predict(list(want))
    probs = np.array([[g.probs[n] for n in clf.labels] for g in got])
    np.testing.assert_allclose(probs, np.array(list(want.values())), atol=1e-5)
    for g in got:
        assert len(g.attention) == len(g.tokens)
        assert abs(float(np.sum(g.attention)) - 1.0) < 1e-4


@pytest.mark.parametrize("mode", QUANTIZED)
def test_user_text_classifier_quantized_runs_on_this_backend(pipeline, expected, mode):
    want = expected[f"user_text_{mode}_litert"]
    clf = load_model(pipeline[f"user-text-{mode}"])
    probs = np.array([[g.probs[n] for n in clf.labels] for g in clf.predict(list(want))])
    ref = np.array(list(want.values()))
    assert np.mean(probs.argmax(-1) == ref.argmax(-1)) >= 0.95
    assert np.abs(probs - ref).max() < 0.1


@pytest.mark.parametrize("name", ["user-seq2seq-int8", "user-callable-int8", "user-text-int8",
                                  "user-tabular-int8"])
def test_inspect_and_profile_read_user_artifacts(pipeline, cli_main, name):
    from click.testing import CliRunner

    path = str(pipeline[name])
    shown = CliRunner().invoke(cli_main, ["inspect", path, "--json"])
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.output)
    assert info["quantization"] == "int8" and info["config"]["model"]["source"].startswith(
        "user"), info["config"]["model"]
    prof = CliRunner().invoke(cli_main, ["profile", path, "--runs", "4", "--warmup", "1",
                                         "--json"])
    assert prof.exit_code == 0, prof.output
    assert json.loads(prof.output)["models"]
