"""Step 1 of export: trace the spec's signatures into a SavedModel with ExportArchive.

Keras 3 layers held by a plain ``tf.Module`` are not tracked (the converter then keeps
VAR_HANDLE ops and the weights are not frozen), so the spec's model is tracked by
``keras.export.ExportArchive`` and every signature is an endpoint with fixed tensor names.
Embeddings and recurrences are traced with :data:`.lowering.TFLITE_CALLS` (one WHILE loop
for the encoder, both directions together, instead of S unrolled steps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .lowering import TFLITE_CALLS, TFLiteCalls


def trace(spec: Any, saved_model_dir: str | Path,
          calls: TFLiteCalls = TFLITE_CALLS) -> list[str]:
    """Write a SavedModel holding one endpoint per signature of the spec.

    Args:
        spec: The model's :class:`~export.specs.ExportSpec` (``model``, ``endpoints``).
        saved_model_dir: Empty directory to write to.
        calls: How embeddings and recurrences are lowered (see :mod:`.lowering`).

    Returns:
        The signature names, in order.
    """
    import keras

    archive = keras.export.ExportArchive()
    archive.track(spec.model)
    eps = spec.endpoints(calls)
    for name, (fn, signature) in eps.items():
        archive.add_endpoint(name, fn, input_signature=signature)
    archive.write_out(str(saved_model_dir), verbose=False)
    return list(eps)
