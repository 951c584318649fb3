"""A user's Keras classifiers with a named attention (issue 12, styles 3 and 4).

Reference = the user's own Keras model: labels and probabilities, and the attention layer's
own output (tabular) or its ``attention_weights`` method (text).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from edge_attn.export.convert import convert
from edge_attn.export.lowering import TFLITE_CALLS
from edge_attn.export.quantization import quant_config
from edge_attn.export.user_classifier import (
    LargeNegativeMaskWarning,
    classifier_endpoints,
    tap_classifier,
)
from edge_attn.export.user_endpoints import trace_endpoints
from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import InputError
from edge_attn.runtime.session import Session


def _helpers():
    name = "user_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            "user_models.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


um = _helpers()


@pytest.fixture(scope="module")
def tabular():
    import keras

    keras.utils.set_random_seed(0)  # initial weights too: the agreement figure is fixed
    x, y = um.column_data()
    model = um.train_classifier(um.tabular_classifier(x.shape[1]), x[:1500], y[:1500])
    return model, x[1500:], y[1500:]


@pytest.fixture(scope="module")
def text():
    import keras

    keras.utils.set_random_seed(0)
    texts, ids, y, tok, names = um.date_lang_data()
    model = um.train_classifier(um.text_classifier(tok.vocab_size, len(names), 24),
                                ids[:1200], y[:1200])
    return model, ids[1200:], y[1200:]


def _convert(model, clf, inputs, mode: str) -> bytes:
    from edge_attn.export.lowering import INT16X8_CALLS

    def rep():
        for start in range(0, 160, 20):
            yield C.CLASSIFY, {C.CLS_INPUTS: inputs[start:start + 20]}

    calls = INT16X8_CALLS if mode == "int16x8" else TFLITE_CALLS
    with tempfile.TemporaryDirectory() as tmp:
        names = trace_endpoints([model], classifier_endpoints(clf, calls), Path(tmp) / "sm")
        return convert(Path(tmp) / "sm", names, quant_config(mode), rep)


def test_tabular_sigmoid_head_and_named_attention(tabular) -> None:
    model, x, y = tabular
    clf = tap_classifier(model, C.TABULAR_CLASSIFIER, attention="feature_attention")
    ref = np.asarray(model(x))[:, 0]
    probs, att = (np.asarray(t) for t in clf.classify(x))
    assert probs.shape == (len(x), 2) and np.allclose(probs.sum(-1), 1.0)
    assert np.array_equal(probs[:, 1], ref)
    want = np.asarray(model.get_layer("feature_attention")(x))
    assert np.array_equal(att, want)
    assert (probs.argmax(-1) == y).mean() > 0.8  # it learned the column
    f32 = Session(_convert(model, clf, x, "float32"), 1).run(C.CLASSIFY, {C.CLS_INPUTS: x})
    assert np.array_equal(f32[C.CLS_PROBS].argmax(-1), probs.argmax(-1))
    assert np.abs(f32[C.CLS_PROBS] - probs).max() < 1e-5
    q = Session(_convert(model, clf, x, "int8"), 1).run(C.CLASSIFY, {C.CLS_INPUTS: x})
    agree = (q[C.CLS_PROBS].argmax(-1) == probs.argmax(-1)).mean()
    print(f"tabular int8 label agreement {agree:.3f}")
    assert agree >= 0.99


def test_text_pooling_weights_tapped(text) -> None:
    model, ids, y = text
    with pytest.warns(LargeNegativeMaskWarning, match="pool.*large negative"):
        clf = tap_classifier(model, C.TEXT_CLASSIFIER)  # the one layer with the method
    ref = np.asarray(model(ids))
    probs, att = (np.asarray(t) for t in clf.classify(ids))
    assert np.array_equal(probs.argmax(-1), ref.argmax(-1))
    assert np.abs(probs - ref).max() < 1e-6
    assert np.all(att[ids == 0] == 0.0) and np.allclose(att.sum(-1), 1.0, atol=1e-5)
    lowered, _ = clf.classify(ids, TFLITE_CALLS)
    assert np.abs(np.asarray(lowered) - ref).max() < 1e-5
    f32 = Session(_convert(model, clf, ids, "float32"), 1).run(C.CLASSIFY, {C.CLS_INPUTS: ids})
    assert np.array_equal(f32[C.CLS_PROBS].argmax(-1), ref.argmax(-1))
    assert np.array_equal(f32[C.CLS_ATTENTION].argmax(-1), att.argmax(-1))


def test_bad_attention_names(tabular, text) -> None:
    with pytest.raises(InputError, match="no layer named 'nope'"):
        tap_classifier(tabular[0], C.TABULAR_CLASSIFIER, attention="nope")
    dense = [x.name for x in text[0].layers][-1]
    with pytest.raises(InputError, match="has no attention_weights"):
        tap_classifier(text[0], C.TEXT_CLASSIFIER, attention=dense)


def test_classifier_without_attention_is_refused() -> None:
    import keras

    x = keras.Input((8,))
    model = keras.Model(x, keras.layers.Dense(2, activation="softmax")(
        keras.layers.Dense(4)(x)))
    with pytest.raises(InputError, match="which layer is the attention.*--attention-layer"):
        tap_classifier(model, C.TABULAR_CLASSIFIER)


def test_text_pooling_scores_keep_int8(text) -> None:
    """With ``attention_scores`` export masks the scores itself (no -1e9): int8 keeps the
    attention; the layer's own -1e9 masking loses it (same weights, measured side by side)."""
    texts, ids, y, tok, names = um.date_lang_data()
    own, x = text[0], text[1]
    scored = um.text_classifier(tok.vocab_size, len(names), 24, scores=True)
    scored.set_weights(own.get_weights())
    clf = tap_classifier(scored, C.TEXT_CLASSIFIER)
    ref = np.asarray(own(x))
    probs, att = (np.asarray(t) for t in clf.classify(x))
    assert np.abs(probs - ref).max() < 1e-6
    lowered, low_att = (np.asarray(t) for t in clf.classify(x, TFLITE_CALLS))
    assert np.abs(lowered - ref).max() < 1e-5 and np.abs(low_att - att).max() < 1e-6
    with pytest.warns(LargeNegativeMaskWarning):
        plain = tap_classifier(own, C.TEXT_CLASSIFIER)
    figures = {}
    for name, c, m in (("scores", clf, scored), ("own -1e9", plain, own)):
        q = Session(_convert(m, c, x, "int8"), 1).run(C.CLASSIFY, {C.CLS_INPUTS: x})
        figures[name] = ((q[C.CLS_PROBS].argmax(-1) == ref.argmax(-1)).mean(),
                         (q[C.CLS_ATTENTION].argmax(-1) == att.argmax(-1)).mean())
    print("text int8 (label, attention-argmax) agreement:", figures)
    assert figures["scores"][1] > figures["own -1e9"][1] + 0.3


def test_pre_padding_unmasked_text_classifier() -> None:
    """An unmasked text classifier trained on left-padded ids (pad_sequences' default): the
    runtime right-pads, ``padding="pre"`` moves the padding inside the graph — probabilities
    equal the model's on left-padded ids; ``post`` would silently change them."""
    texts, ids, y, tok, names = um.date_lang_data()
    model = um.text_classifier(tok.vocab_size, len(names), 24, scores=True, mask_zero=False)
    um.train_classifier(model, um.left_pad(ids[:1200]), y[:1200], epochs=2)
    right = ids[1200:1400]
    ref = np.asarray(model(um.left_pad(right)))
    clf = tap_classifier(model, C.TEXT_CLASSIFIER, padding="pre")
    probs, att = (np.asarray(t) for t in clf.classify(right))
    assert np.abs(probs - ref).max() < 1e-6
    post, _ = tap_classifier(model, C.TEXT_CLASSIFIER).classify(right)
    assert np.abs(np.asarray(post) - ref).max() > 1e-3  # the wrong side changes outputs
    # attention back in the runtime's order: row i's weight on its j-th real token
    pooled = model.get_layer("pool")
    left_x = model.get_layer(index=2)(model.get_layer(index=1)(um.left_pad(right)))
    left_att = np.asarray(pooled.attention_weights(left_x))
    for a, l_row, r_row in zip(att, left_att, right):
        n = int((r_row != 0).sum())
        np.testing.assert_allclose(a[:n], l_row[len(l_row) - n:], atol=1e-6)
    f32 = Session(_convert(model, clf, right, "float32"), 1).run(C.CLASSIFY,
                                                                {C.CLS_INPUTS: right})
    assert np.abs(f32[C.CLS_PROBS] - ref).max() < 1e-5
    np.testing.assert_allclose(f32[C.CLS_ATTENTION], att, atol=1e-5)


def test_pre_padding_is_refused_for_tabular(tabular) -> None:
    with pytest.raises(InputError, match="padding pre applies to token inputs"):
        tap_classifier(tabular[0], C.TABULAR_CLASSIFIER, padding="pre")


def test_text_mask_is_a_cast_so_int16x8_calibrates(text) -> None:
    """Keras records Embedding(mask_zero)'s mask as ``not_equal(ids, 0)``; lowered, it is a
    cast (an int32 compare has no calibrated range and failed int16x8 conversion)."""
    from edge_attn.export.convert import op_names

    texts, ids, y, tok, names = um.date_lang_data()
    own, x = text[0], text[1]
    scored = um.text_classifier(tok.vocab_size, len(names), 24, scores=True)
    scored.set_weights(own.get_weights())
    clf = tap_classifier(scored, C.TEXT_CLASSIFIER)
    assert "NOT_EQUAL" not in op_names(_convert(scored, clf, x, "float32"))
    q = Session(_convert(scored, clf, x, "int16x8"), 1).run(C.CLASSIFY, {C.CLS_INPUTS: x})
    ref = np.asarray(own(x)).argmax(-1)
    assert np.mean(q[C.CLS_PROBS].argmax(-1) == ref) >= 0.99
