"""Global attention score functions (Luong et al. 2015; Bahdanau et al. 2015; Vaswani 2017).

Every class follows :class:`~edge_attn.layers.base.AttentionScore`: ``precompute(memory)``
once per sentence, then ``call(query, keys, mask, positions) -> scores[B, T, S]`` (raw).
Shapes: B batch, T target (query) steps, S source steps, Dq query dim, Dm memory dim,
K key dim, U hidden units.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from edge_attn.layers.base import AttentionScore
from edge_attn.runtime.errors import InputError

_REGISTER = keras.saving.register_keras_serializable(package="edge_attn")


def _positive(name: str, value: Any, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return value


def _dot(query: Any, keys: Any) -> Any:
    return ops.matmul(query, ops.transpose(keys, (0, 2, 1)))


def _project(x: Any, w: Any) -> Any:
    """``x @ w`` for x [B, ..., D] whose dimensions after B are static: reshaped to 2-D
    around the matmul with constant shapes, so the exported graph has no shape arithmetic
    around its FULLY_CONNECTED (a batch-dynamic N-D matmul converts to SHAPE/GATHER/PACK
    chains)."""
    inner = tuple(x.shape[1:])
    if None in inner:
        return ops.matmul(x, w)
    return ops.reshape(ops.matmul(ops.reshape(x, (-1, inner[-1])), w),
                       (-1, *inner[:-1], w.shape[-1]))


def _tanh_score(query_proj: Any, keys: Any, v: Any) -> Any:
    """``v . tanh(query_proj[:, t] + keys[:, s])`` for every (t, s): ``[B, T, S]``."""
    hidden = ops.tanh(ops.expand_dims(query_proj, 2) + ops.expand_dims(keys, 1))
    # a matmul, not sum(hidden * v): TFLite's int16 SUM kernel is off by up to half the range
    return ops.squeeze(_project(hidden, ops.expand_dims(v, -1)), -1)


@_REGISTER
class DotScore(AttentionScore):
    """Dot score (Luong et al. 2015, eq. 8): ``score(h_t, h_s) = h_tᵀ h_s``.

    ``precompute`` is the identity (keys = memory); needs Dq = Dm.

    Call args:
        query: ``[B, T, D]``. keys: ``[B, S, D]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def call(self, query: Any, keys: Any, mask: Any = None, positions: Any = None) -> Any:
        self._check_key_dim(query, keys)
        return _dot(query, keys)


@_REGISTER
class ScaledDotScore(AttentionScore):
    """Scaled dot score (Vaswani et al. 2017, eq. 1): ``h_tᵀ h_s / sqrt(D)``.

    Call args:
        query: ``[B, T, D]``. keys: ``[B, S, D]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def call(self, query: Any, keys: Any, mask: Any = None, positions: Any = None) -> Any:
        self._check_key_dim(query, keys)
        depth = keys.shape[-1]
        if depth is None:
            scale = ops.rsqrt(ops.cast(ops.shape(keys)[-1], query.dtype))
        else:
            scale = 1.0 / math.sqrt(depth)
        return _dot(query, keys) * scale


@_REGISTER
class GeneralScore(AttentionScore):
    """General score (Luong et al. 2015, eq. 8): ``score(h_t, h_s) = h_tᵀ W_a h_s``.

    ``precompute`` gives ``keys = memory @ W_a`` (``W_a``: ``[Dm, Dq]``, no bias), so each
    decoder step is a dot product.

    Args:
        query_dim: Dq, needed only when ``precompute`` runs before the first call and Dq != Dm
            (otherwise it is taken from the query, or defaults to Dm).

    Call args:
        query: ``[B, T, Dq]``. keys: ``[B, S, Dq]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def __init__(self, query_dim: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if query_dim is not None:
            _positive("query_dim", query_dim, type(self).__name__)
        self.query_dim = query_dim

    def _build_memory_weights(self, memory_shape: tuple, query_dim: int | None) -> None:
        key_dim = self.query_dim or query_dim or memory_shape[-1]
        self.w_a = self.add_weight(
            name="w_a", shape=(memory_shape[-1], key_dim), initializer="glorot_uniform"
        )

    def _keys(self, memory: Any) -> Any:
        return ops.matmul(memory, self.w_a)

    def call(self, query: Any, keys: Any, mask: Any = None, positions: Any = None) -> Any:
        self._check_key_dim(query, keys)
        return _dot(query, keys)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "query_dim": self.query_dim}


class _TanhScore(AttentionScore):
    """Shared body of the concat and additive scores: ``vᵀ tanh(W1 q_t + W2 h_s [+ b])``."""

    def __init__(self, units: int, use_bias: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = _positive("units", units, type(self).__name__)
        self.use_bias = bool(use_bias)

    def _build_memory_weights(self, memory_shape: tuple, query_dim: int | None) -> None:
        self.w2 = self.add_weight(
            name="w2", shape=(memory_shape[-1], self.units), initializer="glorot_uniform"
        )

    def _build_query_weights(self, query_shape: tuple) -> None:
        self.w1 = self.add_weight(
            name="w1", shape=(query_shape[-1], self.units), initializer="glorot_uniform"
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")

    def _keys(self, memory: Any) -> Any:
        return ops.matmul(memory, self.w2)

    def call(self, query: Any, keys: Any, mask: Any = None, positions: Any = None) -> Any:
        query_proj = _project(query, self.w1)
        if self.bias is not None:
            query_proj = query_proj + self.bias
        return _tanh_score(query_proj, keys, self.v)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@_REGISTER
class ConcatScore(_TanhScore):
    """Concat score (Luong et al. 2015, eq. 8): ``v_aᵀ tanh(W_a [h_t; h_s])``.

    ``W_a [h_t; h_s]`` is computed as ``W1 h_t + W2 h_s`` (no bias); ``precompute`` gives
    ``keys = W2 h_s``.

    Args:
        units: U, rows of ``W_a``.

    Call args:
        query: ``[B, T, Dq]``. keys: ``[B, S, U]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, use_bias=False, **kwargs)


@_REGISTER
class AdditiveScore(_TanhScore):
    """Additive (MLP) score (Bahdanau et al. 2015, eq. 6 / appendix A.1.2).

    ``e_ts = vᵀ tanh(W1 q_t + W2 h_s + b)``; ``precompute`` gives ``keys = W2 h_s``.

    Args:
        units: U, the hidden size of the alignment MLP.
        use_bias: Whether to add ``b`` (``False`` gives Daniluk et al.'s form).

    Call args:
        query: ``[B, T, Dq]``. keys: ``[B, S, U]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def __init__(self, units: int, use_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, use_bias=use_bias, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_bias": self.use_bias}


@_REGISTER
class LocationScore(AttentionScore):
    """Location-based score (Luong et al. 2015, eq. 9): ``a_t = softmax(W_a h_t)``.

    The score depends only on the query: ``W_a`` (``[Dq, max_source_len]``, no bias) gives
    ``max_source_len`` logits, sliced to the S source positions. ``precompute`` is the
    identity (keys only carry S).

    Args:
        max_source_len: The largest S this layer accepts.

    Call args:
        query: ``[B, T, Dq]``. keys: ``[B, S, Dm]``. mask, positions: unused by the raw score.

    Returns:
        ``[B, T, S]`` raw scores.
    """

    def __init__(self, max_source_len: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_source_len = _positive("max_source_len", max_source_len, type(self).__name__)

    def _build_query_weights(self, query_shape: tuple) -> None:
        self.w_a = self.add_weight(
            name="w_a", shape=(query_shape[-1], self.max_source_len), initializer="glorot_uniform"
        )

    def call(self, query: Any, keys: Any, mask: Any = None, positions: Any = None) -> Any:
        length = keys.shape[1]
        if length is not None and length > self.max_source_len:
            raise InputError(
                f"{self.name}: source length {length} > max_source_len {self.max_source_len}"
            )
        if length is None:
            length = ops.shape(keys)[1]
        return ops.matmul(query, self.w_a)[:, :, :length]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_source_len": self.max_source_len}
