"""Keras's own attention layers with edge-attn's masked softmax instead of ``scores - 1e9``.

``keras.layers.Attention``, ``AdditiveAttention`` and ``MultiHeadAttention`` mask padding by
adding ``-1e9`` to its scores before the softmax. In float that gives padding a weight of
exactly 0, as :func:`~edge_attn.layers.masked_softmax.masked_softmax` does; in int8 the
``-1e9`` stretches the scores' quantization range until every real score rounds to the same
value (attention argmax agreement 28–40 % on toy models, see DESIGN.md). The functions here
compute the same attention with the layers' own weights (and the layers' own score
functions) and the masked softmax, so the float result is the layer's and int8 keeps working.

Additive scores ``Σ_d scale_d tanh(q_d + k_d)`` are a matmul with ``scale`` (int16 SUM is
inaccurate, as in the built-in scores).

Shapes: B batch, T query steps, S memory steps, D model width, N heads.
"""

from __future__ import annotations

from typing import Any

from edge_attn.layers.masked_softmax import masked_softmax
from edge_attn.runtime.errors import ExportError


def attention_kinds() -> tuple[type, ...]:
    """The Keras attention layer classes this module lowers."""
    import keras

    return (keras.layers.Attention, keras.layers.AdditiveAttention,
            keras.layers.MultiHeadAttention)


def _additive_scores(layer: Any, query: Any, key: Any) -> Any:
    """[B, T, S] additive scores as a matmul over the feature axis."""
    from keras import ops

    feats = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))  # [B, T, S, D]
    if not layer.use_scale:
        return ops.sum(feats, axis=-1)
    return ops.squeeze(ops.matmul(feats, ops.expand_dims(layer.scale, -1)), -1)


def _dot_like(layer: Any, query: Any, value: Any, key: Any, mask: Any) -> tuple[Any, Any]:
    """``Attention`` / ``AdditiveAttention``: context [B, T, D] and weights [B, T, S]."""
    import keras
    from keras import ops

    if isinstance(layer, keras.layers.AdditiveAttention):
        scores = _additive_scores(layer, query, key)
    else:
        scores = layer._calculate_scores(query=query, key=key)
    weights = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, -2))
    return ops.matmul(weights, value), weights


def _multi_head(layer: Any, query: Any, value: Any, key: Any, mask: Any) -> tuple[Any, Any]:
    """``MultiHeadAttention``: output [B, T, D] and head-averaged weights [B, T, S]."""
    from keras import ops

    if len(layer._attention_axes) != 1:
        raise ExportError(f"cannot export {layer.name}: MultiHeadAttention over more than "
                          "one attention axis")
    gate = layer._gate_dense(query) if getattr(layer, "_use_gate", False) else None
    q = layer._query_dense(query) * layer._inverse_sqrt_key_dim  # [B, T, N, K]
    k, v = layer._key_dense(key), layer._value_dense(value)  # [B, S, N, K]
    scores = ops.einsum(layer._dot_product_equation, k, q)  # [B, N, T, S]
    m = None if mask is None else mask[:, None, None, :]
    weights = masked_softmax(scores, m)
    out = ops.einsum(layer._combine_equation, weights, v)  # [B, T, N, K]
    out = layer._output_dense(out if gate is None else out * gate)
    return out, ops.mean(weights, axis=1)


def attend(layer: Any, query: Any, value: Any, key: Any | None, mask: Any | None,
           lowered: bool) -> tuple[Any, Any]:
    """One Keras attention layer over a memory.

    Args:
        layer: ``keras.layers.Attention``, ``AdditiveAttention`` or ``MultiHeadAttention``.
        query: [B, T, Dq] queries.
        value: [B, S, D] memory.
        key: [B, S, Dk] keys (``None``: the value).
        mask: float/bool [B, S], 1 for real memory steps (``None``: no mask).
        lowered: Masked softmax (export); otherwise the layer's own call (reference).

    Returns:
        ``(output [B, T, D'], weights [B, T, S])`` — multi-head weights averaged over heads.

    Raises:
        ExportError: An attention layer or setting this function does not implement.
    """
    from keras import ops

    if not isinstance(layer, attention_kinds()):
        raise ExportError(f"cannot lower attention layer {layer.name} "
                          f"({type(layer).__name__})")
    key = value if key is None else key
    bool_mask = None if mask is None else ops.cast(mask, "bool")
    multi = isinstance(layer, attention_kinds()[2])
    if not lowered:
        if multi:
            out, w = layer(query, value, key=key, value_mask=bool_mask,
                           return_attention_scores=True)
            return out, ops.mean(w, axis=1)
        inputs = [query, value] if key is value else [query, value, key]
        masks = None if bool_mask is None else [None, bool_mask] + (
            [] if key is value else [bool_mask])
        return layer(inputs, mask=masks, return_attention_scores=True)
    if multi:
        return _multi_head(layer, query, value, key, mask)
    return _dot_like(layer, query, value, key, mask)
