"""The shared fit call: wall-clock budget, progress inside epochs, distribution scope."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from edge_attn.training.fit import BatchProgress, compile_and_fit, distribution_scope


def _data(n: int = 256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32")


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])


def test_time_budget_stops_before_an_epoch_that_would_overrun():
    x, y = _data()
    fit = compile_and_fit(_model(), "sparse_categorical_crossentropy", [], x, y, x, y,
                          epochs=50, batch_size=32, learning_rate=1e-2, patience=50,
                          verbose=0, time_budget_s=1e-6)
    assert fit["epochs_run"] == 1 and fit["stopped_by_time_budget"]
    free = compile_and_fit(_model(), "sparse_categorical_crossentropy", [], x, y, x, y,
                           epochs=3, batch_size=32, learning_rate=1e-2, patience=50,
                           verbose=0)
    assert free["epochs_run"] == 3 and not free["stopped_by_time_budget"]


def test_batch_progress_reports_inside_the_epoch(capsys):
    x, y = _data()
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[BatchProgress(8, 0.0)])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("epoch 1:")]
    assert len(lines) == 8 and "batch 8/8" in lines[-1] and "loss" in lines[0]


def test_one_device_trains_without_a_strategy():
    import tensorflow as tf

    assert len(tf.config.list_logical_devices("GPU")) <= 1  # this machine: CPU only
    assert isinstance(distribution_scope(), contextlib.nullcontext)
