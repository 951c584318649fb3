"""HAN-style text classifier: embedding → biGRU → attention pooling → softmax."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from edge_attn.layers import AttentionPooling
from edge_attn.models.layer_calls import KERAS_CALLS, LayerCalls
from edge_attn.runtime.errors import InputError


@keras.saving.register_keras_serializable(package="edge_attn")
class TextClassifier(keras.Model):
    """Word-level attention classifier after Yang et al. 2016 (Hierarchical Attention Networks).

    u_s = tanh(W h_s + b);  α_s = softmax_s(u_sᵀ u_w) over real tokens;  v = Σ_s α_s h_s;
    p = softmax(W_c v). The biGRU runs over the fixed padded length S.

    Shapes: B batch, S ``max_len``, H ``units``, C classes.

    Args:
        vocab_size: Source vocabulary size.
        num_classes: Number of classes C.
        max_len: Padded length S.
        units: biGRU output size H (H/2 per direction).
        embed_dim: Embedding size.
        attention_units: Size of the HAN context space.
    """

    def __init__(self, vocab_size: int, num_classes: int, max_len: int, units: int = 64,
                 embed_dim: int = 64, attention_units: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, v in dict(vocab_size=vocab_size, num_classes=num_classes, max_len=max_len,
                            units=units, embed_dim=embed_dim).items():
            if not isinstance(v, int) or v <= 0:
                raise InputError(f"{name} must be a positive integer, got {v!r}")
        if units % 2:
            raise InputError(f"units must be even for the bidirectional encoder, got {units}")
        self.hp = dict(vocab_size=vocab_size, num_classes=num_classes, max_len=max_len,
                       units=units, embed_dim=embed_dim, attention_units=attention_units)
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim, name="emb")
        self.encoder = keras.layers.Bidirectional(
            keras.layers.GRU(units // 2, return_sequences=True), name="encoder")
        self.pool = AttentionPooling(attention_units, name="pool")
        self.out = keras.layers.Dense(num_classes, activation="softmax", name="out")

    def classify(self, tokens, calls: LayerCalls = KERAS_CALLS):
        """Probabilities and token attention.

        Args:
            tokens: int32 [B, S] ids, 0 = padding.
            calls: How the embedding and the encoder are applied (export lowers them).

        Returns:
            ``(probs [B, C], attention [B, S])``; attention is 0 on padding.
        """
        # tokens != 0 as a cast: no int32 compare in the graph (the 16x8 quantizer wants ranges
        # for every int32 tensor that feeds a comparison)
        mask = ops.cast(ops.cast(tokens, "bool"), "float32")
        h = calls.recur(self.encoder, calls.embed(self.embedding, tokens), ops.cast(mask, "bool"))
        pooled, weights = self.pool(h, mask=mask)
        return self.out(pooled), weights

    def call(self, tokens, training=None):
        return self.classify(tokens)[0]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self.hp)
        return config
