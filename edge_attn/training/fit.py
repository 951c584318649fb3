"""The Keras fit call shared by every model kind: early stopping, progress, reproducibility."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any

import keras

PROGRESS_EVERY_S = 30.0


def replica_devices() -> list[str]:
    """The devices one training run is mirrored over: every visible GPU when there are two or
    more, else none (one device needs no strategy)."""
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return gpus if len(gpus) > 1 else []


def distribution_scope() -> Any:
    """``tf.distribute.MirroredStrategy(devices).scope()`` over :func:`replica_devices`, else a
    no-op. Build, compile and fit the model inside it: the same command then trains on every
    GPU (each batch split across them, gradients all-reduced)."""
    import tensorflow as tf

    devices = replica_devices()
    if devices:
        return tf.distribute.MirroredStrategy(devices).scope()
    return contextlib.nullcontext()


class BatchProgress(keras.callbacks.Callback):
    """One line every ``every_s`` seconds inside an epoch (Keras's ``verbose=2`` prints only at
    epoch ends; a long epoch on real data would show nothing for many minutes)."""

    def __init__(self, steps: int, every_s: float = PROGRESS_EVERY_S) -> None:
        super().__init__()
        self.steps, self.every_s = steps, every_s
        self.epoch, self.t_epoch, self.t_last = 0, 0.0, 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch, self.t_epoch = epoch, time.perf_counter()
        self.t_last = self.t_epoch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        now = time.perf_counter()
        if now - self.t_last < self.every_s:
            return
        self.t_last = now
        done = batch + 1
        eta = (now - self.t_epoch) / done * (self.steps - done)
        loss = (logs or {}).get("loss")
        shown = f", loss {float(loss):.4f}" if loss is not None else ""
        print(f"epoch {self.epoch + 1}: batch {done}/{self.steps}{shown}, "
              f"{now - self.t_epoch:.0f} s, about {eta:.0f} s left", file=sys.stderr,
              flush=True)


class Warmup(keras.callbacks.Callback):
    """Raise the learning rate linearly from ``rate / steps`` to ``rate`` over the first
    ``steps`` batches (the first epoch).

    Measured on 20k real eng-fra pairs (64 units, word vocabularies of 5k/8k, rate 0.003):
    without it the model settled on the word-frequency loss in the first epoch and never
    left it (validation loss 5.67 → 5.72, early stopping after 3 epochs with a model that
    answered ``<eos>`` to everything; lowering the rate afterwards did not bring it back);
    with it 5.65 → 4.57 → 3.70 in the same 3 epochs.
    """

    def __init__(self, steps: int, rate: float) -> None:
        super().__init__()
        self.steps, self.rate, self.done = max(1, steps), rate, 0

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.done < self.steps:
            self.done += 1
            self.model.optimizer.learning_rate = self.rate * self.done / self.steps


class TimeBudget(keras.callbacks.Callback):
    """Stop before an epoch that would end past ``seconds`` (judged by the longest epoch so
    far), so a run fits a wall-clock budget with whole, validated epochs."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.start, self.longest = seconds, time.perf_counter(), 0.0
        self.epoch_start = self.start
        self.stopped_early = False

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            self.model.stop_training = True
            self.stopped_early = True


def compile_and_fit(model: keras.Model, loss: Any, metrics: list, x_train: Any, y_train: Any,
                    x_val: Any, y_val: Any, epochs: int, batch_size: int,
                    learning_rate: float, patience: int, verbose: int,
                    time_budget_s: float | None = None) -> dict[str, Any]:
    """Adam (its rate warmed up over the first epoch, :class:`Warmup`) + early stopping on
    validation loss (best weights restored), optionally within a wall-clock budget
    (:class:`TimeBudget`).

    Call it inside :func:`distribution_scope` together with the model's construction.

    Returns:
        ``{"epochs_run", "replicas", "seconds", "history", "stopped_by_time_budget"}`` with the
        per-epoch history as floats and the number of devices the run was mirrored over.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0), loss=loss,
                  metrics=metrics)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    steps = -(-len(y_train) // batch_size)  # batches per epoch
    callbacks: list[Any] = [Warmup(steps, learning_rate), stop]
    if verbose == 2:  # not a terminal: Keras prints per epoch only
        callbacks.append(BatchProgress(steps))
    budget = TimeBudget(time_budget_s) if time_budget_s else None
    if budget:
        callbacks.append(budget)
    start = time.perf_counter()
    hist = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                     batch_size=batch_size, callbacks=callbacks, verbose=verbose, shuffle=True)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    import tensorflow as tf

    return {"epochs_run": len(hist.epoch),
            "replicas": int(tf.distribute.get_strategy().num_replicas_in_sync),
            "seconds": round(time.perf_counter() - start, 1),
            "history": history, "stopped_by_time_budget": bool(budget and budget.stopped_early)}
