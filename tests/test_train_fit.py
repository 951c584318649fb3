"""The shared fit call: wall-clock budget, progress inside epochs, distribution scope."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from edge_attn.training.fit import BatchProgress, Warmup, compile_and_fit, distribution_scope


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
    assert fit["epochs_run"] == 1 and fit["stopped_by_time_budget"] and fit["replicas"] == 1
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


MIRRORED_RUN = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from edge_attn.training import fit, train
from edge_attn.training.options import TrainOptions
fit.replica_devices = lambda: [d.name for d in tf.config.list_logical_devices("CPU")]
summary = train(TrainOptions(kind="seq2seq", out=sys.argv[1], task="dates", examples=256,
                             epochs=2, units=8, embed_dim=8, batch_size=32, verbose=0))
config = json.load(open(sys.argv[1] + "/config.json"))
print(json.dumps(config["training"]))
"""


def test_the_training_command_mirrors_over_several_devices(tmp_path):
    """The same ``train`` call builds, compiles and fits inside a MirroredStrategy when more than
    one device is visible (two logical CPUs stand in for two GPUs in a fresh process)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", MIRRORED_RUN, str(tmp_path / "ckpt")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    training = json.loads(out.stdout.strip().splitlines()[-1])
    assert training["replicas"] == 2 and training["epochs_run"] == 2
    losses = training["history"]["loss"]
    assert all(np.isfinite(losses)) and losses[1] < losses[0]


def test_the_learning_rate_is_warmed_up_over_the_first_epoch():
    """Rate seen by each batch of the first epoch: k/8 of the target for batch k of 8, then
    the target itself."""
    x, y = _data()
    seen: list[float] = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[Warmup(8, 1e-2), Spy()])
    np.testing.assert_allclose(seen, [1e-2 * k / 8 for k in range(1, 9)] + [1e-2] * 8,
                               rtol=1e-6)
