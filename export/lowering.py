"""The layer calls export traces: the same functions as Keras, as a smaller TFLite graph."""

from __future__ import annotations

from typing import Any

from edge_attn.models.layer_calls import LayerCalls

from .rnn_loop import run_recurrent


class TFLiteCalls(LayerCalls):
    """Embedding as a plain gather, recurrences as one WHILE loop (see :mod:`.rnn_loop`).

    Keras's embedding maps negative ids with LESS/ADD/SELECT on the int32 ids; those int32
    ops are what the 16x8 quantizer asks calibration ranges for. The runtime's ids come from
    its tokenizers; an id outside [0, V) fed to ``Session.run`` is an ``InputError``.

    Args:
        float_counter: Count loop steps in float32 (needed by the int16x8 quantizer; int8
            would quantize a float counter, so the other modes keep it int32).
        unroll: Encoder recurrences as S step copies instead of one WHILE loop (a larger
            file, a faster encoder; see :func:`.rnn_loop.run_recurrent`).
    """

    def __init__(self, float_counter: bool = False, unroll: bool = False) -> None:
        self.float_counter, self.unroll = float_counter, unroll

    def embed(self, layer: Any, ids: Any) -> Any:
        import tensorflow as tf

        return tf.gather(layer.embeddings, ids)

    def recur(self, layer: Any, x: Any, mask: Any) -> Any:
        return run_recurrent(layer, x, mask, self.float_counter, self.unroll)


TFLITE_CALLS = TFLiteCalls()
INT16X8_CALLS = TFLiteCalls(float_counter=True)


def calls_for(int16x8: bool, encoder_loop: str = "while") -> TFLiteCalls:
    """The lowering of one export: the int16x8 float counter, WHILE or unrolled encoder."""
    return TFLiteCalls(float_counter=int16x8, unroll=encoder_loop == "unrolled")
