"""Attention pooling with a learned context vector (Yang et al. 2016, HAN)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from edge_attn.layers.masked_softmax import masked_softmax
from edge_attn.runtime.errors import InputError


@keras.saving.register_keras_serializable(package="edge_attn")
class AttentionPooling(keras.layers.Layer):
    """Context-vector attention pooling (Yang et al. 2016, "Hierarchical Attention Networks
    for Document Classification", eqs. 5-7).

    ``u_s = tanh(W h_s + b)``, ``α_s = softmax_s(u_sᵀ u_w)`` (masked), ``pooled = Σ_s α_s h_s``.

    Args:
        units: Size of ``u_s`` and of the context vector ``u_w``.

    Call args:
        h: ``[B, S, D]``.
        mask: ``[B, S]`` (1 = real, 0 = padding) or ``None``; a Keras mask (e.g. from
            ``Embedding(mask_zero=True)``) is picked up. No mask is passed on.

    Returns:
        ``(pooled[B, D], weights[B, S])``.
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise InputError(f"AttentionPooling: units must be a positive integer, got {units!r}")
        self.units = units

    def build(self, input_shape: Any) -> None:
        dim = input_shape[-1]
        if dim is None:
            raise InputError(f"{self.name}: the input's last dimension must be known")
        self.kernel = self.add_weight(
            name="kernel", shape=(dim, self.units), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.context = self.add_weight(
            name="context", shape=(self.units,), initializer="glorot_uniform"
        )

    def call(self, h: Any, mask: Any = None) -> tuple[Any, Any]:
        hidden = ops.tanh(ops.matmul(h, self.kernel) + self.bias)  # [B, S, U]
        # matmuls, not sums of products: TFLite's int16 SUM kernel is inaccurate (int16x8)
        scores = ops.squeeze(ops.matmul(hidden, ops.expand_dims(self.context, -1)), -1)  # [B, S]
        weights = masked_softmax(scores, mask, axis=-1)
        pooled = ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), h), 1)  # [B, H]
        return pooled, weights

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}
