"""Attention encoder–decoder (seq2seq) whose decoder is one reusable step function."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from edge_attn.layers import GlobalAttention
from edge_attn.layers.registry import canonical_name
from edge_attn.models.layer_calls import KERAS_CALLS, LayerCalls
from edge_attn.runtime.errors import InputError

CELLS = ("gru", "lstm")


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise InputError(f"{name} must be a positive integer, got {value!r}")


def _score_options(attention: str, **options: Any) -> dict[str, Any]:
    """The subset of ``options`` the chosen score's constructor accepts."""
    import inspect

    from edge_attn.layers.registry import SCORES, canonical_name

    accepted = inspect.signature(SCORES[canonical_name(attention)].__init__).parameters
    return {k: v for k, v in options.items() if k in accepted}


@keras.saving.register_keras_serializable(package="edge_attn")
class Seq2Seq(keras.Model):
    """Embedding → (bi)GRU/LSTM encoder → recurrent decoder with attention (Luong et al. 2015).

    Each decoder step (no input feeding, so the state never depends on the attention):
        s_t = Cell(E[y_{t-1}], s_{t-1});  a_t = softmax(score(s_t, h̄));  c_t = Σ_s a_t(s) h̄_s
        h̃_t = tanh(W_c [c_t; s_t]);  p(y_t) = softmax(W_o h̃_t)
    ``score`` is any registered attention score (dot, general, concat, additive = Bahdanau,
    location, local-p, local-m). Everything that depends only on the encoder (e.g. Bahdanau's
    W₂·h̄) is computed once in :meth:`encode` and passed to every :meth:`step` as ``keys``.
    The encoder runs over a fixed padded length S (export lowers it to one TFLite loop).

    Shapes: B batch, S source length (fixed ``max_source_len``), T target steps, H ``units``,
    V target vocabulary.

    Args:
        source_vocab: Source vocabulary size.
        target_vocab: Target vocabulary size V.
        max_source_len: Padded source length S.
        max_target_len: Longest target (with ``<eos>``) used in training and decoding.
        units: Decoder state size H (a bidirectional encoder uses H/2 per direction).
        embed_dim: Embedding size.
        cell: ``"gru"`` or ``"lstm"``.
        bidirectional: Bidirectional encoder.
        attention: Attention score name.
        attention_units: Hidden size of concat/additive scores (default H).
        window: Half-width D of local attention.
    """

    def __init__(self, source_vocab: int, target_vocab: int, max_source_len: int,
                 max_target_len: int, units: int = 64, embed_dim: int = 32, cell: str = "gru",
                 bidirectional: bool = True, attention: str = "additive",
                 attention_units: int | None = None, window: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_positive(source_vocab=source_vocab, target_vocab=target_vocab, units=units,
                        embed_dim=embed_dim, max_source_len=max_source_len,
                        max_target_len=max_target_len)
        if cell not in CELLS:
            from edge_attn.runtime.errors import UnknownChoiceError
            raise UnknownChoiceError("cell", cell, CELLS)
        if bidirectional and units % 2:
            raise InputError(f"units must be even for a bidirectional encoder, got {units}")
        self.hp = dict(source_vocab=source_vocab, target_vocab=target_vocab,
                       max_source_len=max_source_len, max_target_len=max_target_len,
                       units=units, embed_dim=embed_dim, cell=cell, bidirectional=bidirectional,
                       attention=attention, attention_units=attention_units, window=window)
        self.attention = GlobalAttention(attention, name="attention", **_score_options(
            attention, units=attention_units or units, max_source_len=max_source_len,
            window=window))
        self.uses_position = canonical_name(attention) == "local-m"
        enc_units = units // 2 if bidirectional else units
        rnn_cls = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
        rnn = rnn_cls(enc_units, return_sequences=True, return_state=True)
        self.encoder = keras.layers.Bidirectional(rnn, name="encoder") if bidirectional else rnn
        self.source_embedding = keras.layers.Embedding(source_vocab, embed_dim, name="src_emb")
        self.target_embedding = keras.layers.Embedding(target_vocab, embed_dim, name="tgt_emb")
        cell_cls = keras.layers.GRUCell if cell == "gru" else keras.layers.LSTMCell
        self.cell = cell_cls(units, name="decoder_cell")
        self.combine = keras.layers.Dense(units, activation="tanh", name="combine")
        self.project = keras.layers.Dense(target_vocab, name="project")

    @property
    def state_names(self) -> list[str]:
        """Names of the decoder state tensors (the ``state...`` of ``decode_step``)."""
        names = ["state_h"] if self.hp["cell"] == "gru" else ["state_h", "state_c"]
        return names + (["state_position"] if self.uses_position else [])

    def encode(self, tokens, mask, calls: LayerCalls = KERAS_CALLS):
        """Encode a padded batch once.

        Args:
            tokens: int32 [B, S] source ids (0 = padding).
            mask: float32 [B, S], 1 for real tokens.
            calls: How the embedding and the encoder are applied (export lowers them).

        Returns:
            ``(memory [B,S,H], keys [B,S,K], states)`` with ``states`` a list matching
            :attr:`state_names` (the decoder's initial state).
        """
        x = calls.embed(self.source_embedding, tokens)
        outs = calls.recur(self.encoder, x, ops.cast(mask, "bool"))
        memory, finals = outs[0], list(outs[1:])
        if self.hp["cell"] == "gru":
            states = [ops.concatenate(finals, -1) if len(finals) == 2 else finals[0]]
        elif self.hp["bidirectional"]:  # forward h, c then backward h, c
            states = [ops.concatenate([finals[0], finals[2]], -1),
                      ops.concatenate([finals[1], finals[3]], -1)]
        else:
            states = finals
        if self.uses_position:
            states.append(ops.zeros_like(states[0][:, :1]))
        return memory, self.attention.precompute(memory), states

    def step(self, prev_token, states, memory, keys, mask, calls: LayerCalls = KERAS_CALLS):
        """One decoder step, shared by training (looped) and export (one call).

        Args:
            prev_token: int32 [B] previous target id (``<bos>`` first).
            states: List of [B, H] tensors (and [B, 1] position for local-m).
            memory: [B, S, H] encoder outputs.
            keys: [B, S, K] precomputed attention keys.
            mask: float32 [B, S] source mask.
            calls: How the target embedding is applied (export lowers it).

        Returns:
            ``(logits [B, V], new_states, attention [B, S])``.
        """
        features, new_states, weights = self.step_features(prev_token, states, memory, keys,
                                                           mask, calls)
        return self.project(features), new_states, weights

    def step_features(self, prev_token, states, memory, keys, mask,
                      calls: LayerCalls = KERAS_CALLS):
        """:meth:`step` up to the output layer: ``(h̃ [B, H], new_states, attention [B, S])``.

        A vocabulary shortlist multiplies h̃ with only the candidate rows of ``project``.
        """
        rnn_states = states[:-1] if self.uses_position else states
        emb = calls.embed(self.target_embedding, prev_token)
        out, new_rnn = self.cell(emb, rnn_states[0] if len(rnn_states) == 1 else rnn_states)
        new_rnn = list(new_rnn) if isinstance(new_rnn, (list, tuple)) else [new_rnn]
        positions = states[-1] if self.uses_position else None
        context, weights = self.attention(ops.expand_dims(out, 1), memory, keys=keys,
                                          mask=mask, positions=positions)
        context, weights = context[:, 0, :], weights[:, 0, :]
        features = self.combine(ops.concatenate([context, out], -1))
        new_states = new_rnn + ([positions + 1.0] if self.uses_position else [])
        return features, new_states, weights

    def call(self, inputs, training=None):
        """Teacher-forced logits by looping :meth:`step`.

        Args:
            inputs: ``(source [B,S] int32, target_in [B,T] int32)``; target_in starts with
                ``<bos>``.

        Returns:
            Logits [B, T, V].
        """
        source, target_in = inputs
        mask = ops.cast(ops.not_equal(source, 0), "float32")
        memory, keys, states = self.encode(source, mask)
        steps = []
        for t in range(target_in.shape[1]):
            logits, states, _ = self.step(target_in[:, t], states, memory, keys, mask)
            steps.append(logits)
        return ops.stack(steps, axis=1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self.hp)
        return config
