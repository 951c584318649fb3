"""Step 1 of export: trace the model's signatures into a SavedModel with ExportArchive.

Keras 3 layers held by a plain ``tf.Module`` are not tracked (the converter then keeps
VAR_HANDLE ops and the weights are not frozen), so the model is tracked by
``keras.export.ExportArchive`` and every signature is an endpoint with fixed tensor names.
Embeddings and recurrences are traced with :data:`.lowering.TFLITE_CALLS` (one WHILE loop
for the encoder, both directions together, instead of S unrolled steps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_attn.runtime import constants as C

from .lowering import TFLITE_CALLS, TFLiteCalls


def _seq2seq_endpoints(model: Any, tf: Any, calls: TFLiteCalls) -> dict[str, tuple[Any, list]]:
    hp = model.hp
    s, h = hp["max_source_len"], hp["units"]
    names = model.state_names
    k = int(model.attention.precompute(
        tf.zeros([1, s, h])).shape[-1])  # key width depends on the score

    def encode(tokens, mask):
        memory, keys, states = model.encode(tokens, mask, calls)
        return {C.ENC_MEMORY: memory, C.ENC_KEYS: keys, **dict(zip(names, states))}

    state_specs = [tf.TensorSpec([None, 1 if n == "state_position" else h], tf.float32, name=n)
                   for n in names]

    def decode_step(token, *rest):
        states, (memory, keys, mask) = list(rest[: len(names)]), rest[len(names):]
        logits, new_states, attention = model.step(token, states, memory, keys, mask, calls)
        return {C.DEC_LOG_PROBS: tf.nn.log_softmax(logits, -1), C.DEC_ATTENTION: attention,
                **dict(zip(names, new_states))}

    return {
        C.ENCODE: (encode, [tf.TensorSpec([None, s], tf.int32, name=C.ENC_TOKENS),
                            tf.TensorSpec([None, s], tf.float32, name=C.ENC_MASK)]),
        C.DECODE_STEP: (decode_step, [tf.TensorSpec([None], tf.int32, name=C.DEC_TOKEN),
                                      *state_specs,
                                      tf.TensorSpec([None, s, h], tf.float32, name=C.DEC_MEMORY),
                                      tf.TensorSpec([None, s, k], tf.float32, name=C.DEC_KEYS),
                                      tf.TensorSpec([None, s], tf.float32, name=C.DEC_MASK)]),
    }


def _classifier_endpoints(model: Any, kind: str, tf: Any,
                          calls: TFLiteCalls) -> dict[str, tuple[Any, list]]:
    if kind == C.TEXT_CLASSIFIER:
        spec = tf.TensorSpec([None, model.hp["max_len"]], tf.int32, name=C.CLS_INPUTS)
    else:
        spec = tf.TensorSpec([None, model.hp["num_features"]], tf.float32, name=C.CLS_INPUTS)

    def classify(inputs):
        probs, attention = (model.classify(inputs, calls) if kind == C.TEXT_CLASSIFIER
                              else model.classify(inputs))
        return {C.CLS_PROBS: probs, C.CLS_ATTENTION: attention}

    return {C.CLASSIFY: (classify, [spec])}


def endpoints(model: Any, kind: str,
              calls: TFLiteCalls = TFLITE_CALLS) -> dict[str, tuple[Any, list]]:
    """The signatures of ``kind`` as ``{name: (function, input_signature)}``."""
    import tensorflow as tf

    if kind == C.SEQ2SEQ:
        return _seq2seq_endpoints(model, tf, calls)
    return _classifier_endpoints(model, kind, tf, calls)


def trace(model: Any, kind: str, saved_model_dir: str | Path,
          calls: TFLiteCalls = TFLITE_CALLS) -> list[str]:
    """Write a SavedModel holding one endpoint per signature of ``kind``.

    Args:
        model: A built edge-attn Keras model.
        kind: Model kind (see :mod:`edge_attn.runtime.constants`).
        saved_model_dir: Empty directory to write to.
        calls: How embeddings and recurrences are lowered (see :mod:`.lowering`).

    Returns:
        The signature names, in order.
    """
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    eps = endpoints(model, kind, calls)
    for name, (fn, spec) in eps.items():
        archive.add_endpoint(name, fn, input_signature=spec)
    archive.write_out(str(saved_model_dir), verbose=False)
    return list(eps)
