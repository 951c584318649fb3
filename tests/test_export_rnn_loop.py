"""The export's WHILE-loop recurrence equals the Keras layers it replaces (the reference).

The Keras reference runs with ``unroll=False``: Keras 3.15's unrolled masked path zeroes the
wrong steps of a ``go_backwards`` layer inside ``Bidirectional`` (it applies the unreversed
mask to the reversed outputs), see ``test_keras_unrolled_backward_mask_bug``.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from edge_attn.export.lowering import TFLITE_CALLS  # noqa: E402
from edge_attn.export.rnn_loop import run_recurrent  # noqa: E402
from edge_attn.runtime.errors import ExportError  # noqa: E402

B, S, E, U = 4, 6, 5, 3
LENGTHS = [6, 3, 1, 0]  # full, padded, one token, all padding


def _inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, S, E)).astype("float32")
    mask = np.arange(S)[None, :] < np.array(LENGTHS)[:, None]
    return x, mask


def _build(layer, x):
    layer(x)  # create the weights
    rng = np.random.default_rng(1)  # non-trivial biases (Keras initialises them to 0/1)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])
    return layer


def _layers():
    return {
        "gru": lambda: keras.layers.GRU(U, return_sequences=True, return_state=True),
        "lstm": lambda: keras.layers.LSTM(U, return_sequences=True, return_state=True),
        "gru-seq-only": lambda: keras.layers.GRU(U, return_sequences=True),
        "bi-gru": lambda: keras.layers.Bidirectional(
            keras.layers.GRU(U, return_sequences=True, return_state=True)),
        "bi-lstm": lambda: keras.layers.Bidirectional(
            keras.layers.LSTM(U, return_sequences=True, return_state=True)),
        "bi-gru-seq-only": lambda: keras.layers.Bidirectional(
            keras.layers.GRU(U, return_sequences=True)),
    }


@pytest.mark.parametrize("unroll", [False, True], ids=["while", "unrolled"])
@pytest.mark.parametrize("name", list(_layers()))
def test_loop_equals_keras_layer(name: str, unroll: bool) -> None:
    x, mask = _inputs()
    layer = _build(_layers()[name](), x)
    want = layer(x, mask=mask)
    got = tf.function(lambda a, m: run_recurrent(layer, a, m, unroll=unroll))(x, mask)
    want = want if isinstance(want, (list, tuple)) else [want]
    got = got if isinstance(got, (list, tuple)) else [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=1e-5)
    if name.startswith("bi"):  # padded positions are zero in both directions
        seq = np.asarray(got[0])
        assert not seq[~mask].any()


def test_bidirectional_is_one_loop() -> None:
    x, mask = _inputs()
    layer = _build(_layers()["bi-gru"](), x)
    fn = tf.function(lambda a, m: run_recurrent(layer, a, m)).get_concrete_function(
        tf.TensorSpec([None, S, E]), tf.TensorSpec([None, S], tf.bool))
    ops = [op.type for op in fn.graph.get_operations()]
    assert ops.count("While") + ops.count("StatelessWhile") == 1
    assert ops.count("MatMul") == 2  # one input projection per direction; the step is in the body


def test_gather_embedding_equals_keras() -> None:
    emb = keras.layers.Embedding(11, 4)
    ids = np.array([[0, 3, 10], [7, 1, 2]], "int32")
    emb.build(ids.shape)
    np.testing.assert_array_equal(np.asarray(TFLITE_CALLS.embed(emb, ids)),
                                  np.asarray(emb(ids)))


def test_unsupported_layers_are_refused() -> None:
    x, mask = _inputs()
    simple = _build(keras.layers.SimpleRNN(U, return_sequences=True), x)
    with pytest.raises(ExportError, match="SimpleRNN"):
        run_recurrent(simple, x, mask)
    relu = _build(keras.layers.GRU(U, activation="relu", return_sequences=True), x)
    with pytest.raises(ExportError, match="tanh/sigmoid"):
        run_recurrent(relu, x, mask)
    before = _build(keras.layers.GRU(U, reset_after=False, return_sequences=True), x)
    with pytest.raises(ExportError, match="reset_after"):
        run_recurrent(before, x, mask)
    last = _build(keras.layers.GRU(U), x)
    with pytest.raises(ExportError, match="return_sequences"):
        run_recurrent(last, x, mask)


def test_keras_unrolled_backward_mask_bug() -> None:
    """Why the models do not unroll: the unrolled path loses the backward half of short inputs.

    A length-3 input of 6 steps: time t of the backward outputs is zeroed when step 5 - t is
    padding, so every real step's backward output is 0 with ``unroll=True``.
    """
    x, mask = _inputs()
    outs = {}
    for unroll in (True, False):
        layer = _build(keras.layers.Bidirectional(keras.layers.GRU(U, return_sequences=True,
                                                                    unroll=unroll)), x)
        outs[unroll] = np.asarray(layer(x, mask=mask))
    real = mask[1]
    assert not outs[True][1][real][:, U:].any()  # the bug; a fixed Keras makes this fail
    assert outs[False][1][real][:, U:].all()
