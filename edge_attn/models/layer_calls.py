"""How a model applies its embedding and recurrent layers: the two places export lowers.

Training and Keras inference call the layers themselves (:data:`KERAS_CALLS`). Export passes
:class:`edge_attn.export.lowering.TFLiteCalls`, which computes the same functions with ops
that give a small TFLite graph (a WHILE loop instead of an unrolled recurrence, a plain
gather instead of Keras's negative-index handling).
"""

from __future__ import annotations

from typing import Any


class LayerCalls:
    """Apply a model's embedding and recurrent layers with the layers' own ``call``."""

    def embed(self, layer: Any, ids: Any) -> Any:
        """Embedding lookup.

        Args:
            layer: A ``keras.layers.Embedding``.
            ids: int32 [...] token ids (non-negative).

        Returns:
            [..., E] embeddings.
        """
        return layer(ids)

    def recur(self, layer: Any, x: Any, mask: Any) -> Any:
        """Run a recurrent layer over a masked sequence.

        Args:
            layer: A ``keras.layers.GRU``/``LSTM`` or ``Bidirectional`` of one.
            x: [B, S, E] inputs.
            mask: bool [B, S], True for real tokens.

        Returns:
            Whatever ``layer(x, mask=mask)`` returns.
        """
        return layer(x, mask=mask)


KERAS_CALLS = LayerCalls()
