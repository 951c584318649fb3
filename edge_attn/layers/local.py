"""Luong et al. 2015 local attention (local-p and local-m), section 3.2."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from edge_attn.layers.base import expand_source_mask
from edge_attn.layers.masked_softmax import masked_softmax
from edge_attn.layers.scores import GeneralScore, _positive
from edge_attn.runtime.errors import InputError

MODES = ("predictive", "monotonic")


@keras.saving.register_keras_serializable(package="edge_attn")
class LocalAttentionScore(GeneralScore):
    """Local attention of Luong et al. 2015 (section 3.2) on top of the general score.

    For each target step t an aligned position p_t is chosen and only the source window
    ``[p_t - D, p_t + D]`` is attended (0-based source positions s = 0 .. S-1):

    * local-m (``mode="monotonic"``): ``p_t = positions[b, t]`` (the decoder step t, passed in
      by the caller; ``arange(T)`` when ``positions`` is ``None``).
    * local-p (``mode="predictive"``, eq. 9): ``p_t = S_len · sigmoid(v_pᵀ tanh(W_p h_t))`` with
      S_len the real source length (sum of the mask).

    Final weights (eq. 10): ``a_t(s) = align(h_t, h_s) · exp(-(s - p_t)² / (2σ²))``, σ = D/2,
    where ``align`` is the masked softmax of the general score over the real positions inside
    the window. Padding and positions outside the window get exactly 0. Faithful to the paper,
    the Gaussian is applied after the softmax, so the weights of a row do **not** sum to 1.

    Args:
        mode: ``"predictive"`` (local-p) or ``"monotonic"`` (local-m).
        window: D, the half-width of the window (2D+1 positions; the paper uses D = 10).
        units: Hidden size of ``W_p`` (required for local-p, unused by local-m).
        query_dim: See :class:`~edge_attn.layers.scores.GeneralScore`.

    Call args (``attention_weights``):
        query: ``[B, T, Dq]``. keys: ``[B, S, Dq]`` from ``precompute``.
        mask: ``[B, S]`` or ``None``. positions: ``[B, T]`` float (local-m) or ``None``.

    Returns:
        ``call`` gives raw general scores ``[B, T, S]``; ``attention_weights`` the final local
        weights ``[B, T, S]``.
    """

    def __init__(
        self,
        mode: str = "predictive",
        window: int = 10,
        units: int | None = None,
        query_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(query_dim=query_dim, **kwargs)
        if mode not in MODES:
            raise InputError(f"LocalAttentionScore: mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.window = _positive("window", window, "LocalAttentionScore")
        if mode == "predictive":
            units = _positive("units", units, "LocalAttentionScore (local-p)")
        self.units = units

    def _build_query_weights(self, query_shape: tuple) -> None:
        if self.mode == "predictive":
            self.w_p = self.add_weight(
                name="w_p", shape=(query_shape[-1], self.units), initializer="glorot_uniform"
            )
            self.v_p = self.add_weight(
                name="v_p", shape=(self.units,), initializer="glorot_uniform"
            )

    def aligned_positions(
        self, query: Any, keys: Any, mask: Any | None = None, positions: Any | None = None
    ) -> Any:
        """The window centres p_t, ``[B, T]`` (``[1, T]`` for local-m without positions)."""
        dtype = self.compute_dtype
        if self.mode == "monotonic":
            if positions is None:
                return ops.expand_dims(ops.cast(ops.arange(ops.shape(query)[1]), dtype), 0)
            return ops.cast(positions, dtype)
        if mask is None:
            length = ops.cast(ops.shape(keys)[1], dtype)
        else:
            length = ops.sum(ops.cast(mask, dtype), axis=1, keepdims=True)
        gate = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(query, self.w_p)),
                                      ops.expand_dims(self.v_p, -1)), -1)
        return length * ops.sigmoid(gate)

    def attention_weights(
        self, query: Any, keys: Any, mask: Any | None = None, positions: Any | None = None
    ) -> Any:
        """Final local weights ``[B, T, S]`` (see the class docstring)."""
        scores = self(query, keys, mask=mask, positions=positions)
        centre = ops.expand_dims(self.aligned_positions(query, keys, mask, positions), -1)
        source = ops.cast(ops.arange(ops.shape(keys)[1]), self.compute_dtype)
        distance = source - centre  # [B, T, S]
        inside = ops.cast(ops.less_equal(ops.abs(distance), float(self.window)), scores.dtype)
        if mask is not None:
            inside = inside * ops.cast(expand_source_mask(mask), scores.dtype)
        align = masked_softmax(scores, inside, axis=-1)
        sigma = self.window / 2.0
        return align * ops.exp(-ops.square(distance) / (2.0 * sigma * sigma))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "mode": self.mode,
            "window": self.window,
            "units": self.units,
        }
