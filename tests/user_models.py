"""Small user-style Keras models (the recipes of issue 12), trained briefly on built-in tasks.

Each builder returns the model and the data it was trained on, encoded with the project's
tokenizers (ids 0–3 = pad, unk, bos, eos) unless a test needs a Keras vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_attn.data.tasks import TASKS
from edge_attn.runtime.tokenizer import WordTokenizer

S, T = 16, 12  # padded source / target lengths of the dates models


@dataclass
class Seq2SeqData:
    """Encoded date pairs: source [N, S], target_in [N, T] (bos first), target_out [N, T]."""

    texts: list[str]
    source: np.ndarray
    target_in: np.ndarray
    target_out: np.ndarray
    src_tok: Any
    tgt_tok: Any


def _pad(rows: list[list[int]], length: int) -> np.ndarray:
    out = np.zeros((len(rows), length), "int32")
    for i, r in enumerate(rows):
        out[i, :len(r[:length])] = r[:length]
    return out


def left_pad(ids: np.ndarray) -> np.ndarray:
    """Right-padded ids [N, L] moved to the right end of each row (``pad_sequences``'
    default ``padding="pre"``)."""
    out = np.zeros_like(ids)
    for i, row in enumerate(ids):
        real = row[row != 0]
        out[i, len(row) - len(real):] = real
    return out


def dates_data(n: int = 1200, seed: int = 0) -> Seq2SeqData:
    """Date pairs that fit S/T, char-level tokenizers."""
    pairs = [(a, b) for a, b in TASKS["dates"].generate(n, seed) if len(a) <= S]
    src = WordTokenizer.build([a for a, _ in pairs], level="char")
    tgt = WordTokenizer.build([b for _, b in pairs], level="char")
    ids_out = [tgt.encode(b) for _, b in pairs]
    return Seq2SeqData(
        [a for a, _ in pairs], _pad([src.encode(a, add_eos=False) for a, _ in pairs], S),
        _pad([[tgt.BOS_ID, *o[:-1]] for o in ids_out], T), _pad(ids_out, T), src, tgt)


def functional_seq2seq(src_vocab: int, tgt_vocab: int, cell: str = "lstm",
                       bidirectional: bool = True, attention: str = "dot",
                       mask_zero: bool = True, units: int = 32) -> Any:
    """The classic teacher-forced Keras recipe (Input → Embedding → encoder → decoder with
    initial_state → attention → Concatenate → Dense(softmax))."""
    import keras

    rnn = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    src = keras.Input((S,), dtype="int32", name="source")
    tgt = keras.Input((T,), dtype="int32", name="target")
    x = keras.layers.Embedding(src_vocab, 16, mask_zero=mask_zero)(src)
    if bidirectional:
        outs = keras.layers.Bidirectional(
            rnn(units // 2, return_sequences=True, return_state=True))(x)
        memory, n = outs[0], (len(outs) - 1) // 2
        states = [keras.layers.Concatenate()([outs[1 + i], outs[1 + n + i]]) for i in range(n)]
    else:
        memory, *states = rnn(units, return_sequences=True, return_state=True)(x)
    y = keras.layers.Embedding(tgt_vocab, 16, mask_zero=mask_zero)(tgt)
    dec = rnn(units, return_sequences=True)(y, initial_state=states)
    if attention == "dot":
        ctx = keras.layers.Attention()([dec, memory])
    elif attention == "additive":
        ctx = keras.layers.AdditiveAttention()([dec, memory])
    else:
        ctx = keras.layers.MultiHeadAttention(2, units // 2)(dec, memory)
    h = keras.layers.Dense(units, activation="tanh")(keras.layers.Concatenate()([dec, ctx]))
    out = keras.layers.Dense(tgt_vocab, activation="softmax")(h)
    return keras.Model([src, tgt], out)


def train_seq2seq(model: Any, data: Seq2SeqData, epochs: int = 3, seed: int = 0) -> Any:
    """A few epochs of teacher forcing (seconds on CPU)."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit([data.source, data.target_in], data.target_out, batch_size=64, epochs=epochs,
              verbose=0)
    return model


def tabular_classifier(features: int, sigmoid: bool = True, units: int = 16) -> Any:
    """Feature attention: Dense(F, softmax, name="feature_attention") → Multiply → head."""
    import keras

    x = keras.Input((features,), name="features")
    a = keras.layers.Dense(features, activation="softmax", name="feature_attention")(x)
    h = keras.layers.Dense(units, activation="relu")(keras.layers.Multiply()([x, a]))
    out = (keras.layers.Dense(1, activation="sigmoid")(h) if sigmoid
           else keras.layers.Dense(2, activation="softmax")(h))
    return keras.Model(x, out)


def column_data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x, y = TASKS["column"].generate(n, seed)
    return x.astype("float32"), y.astype("int32")


def train_classifier(model: Any, x: np.ndarray, y: np.ndarray, epochs: int = 3,
                     seed: int = 0) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    binary = model.outputs[0].shape[-1] == 1
    model.compile(keras.optimizers.Adam(0.01),
                  "binary_crossentropy" if binary else "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model


def _pooling_class():
    import keras

    @keras.saving.register_keras_serializable(package="user_models")
    class AttentionPooling(keras.layers.Layer):
        """HAN pooling as users write it: tanh(xW+b)·u, masked softmax over time, Σ a x."""

        def __init__(self, units: int = 16, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.supports_masking = True

        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
            self.u = self.add_weight(shape=(self.units, 1), name="u")

        def attention_weights(self, x, mask=None):
            from keras import ops

            scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(x, self.w) + self.b),
                                            self.u), -1)
            if mask is not None:
                scores = scores - 1e9 * (1.0 - ops.cast(mask, scores.dtype))
            return ops.softmax(scores, axis=-1)

        def call(self, x, mask=None):
            from keras import ops

            a = self.attention_weights(x, mask)
            return ops.sum(x * ops.expand_dims(a, -1), axis=1)

        def compute_mask(self, x, mask=None):
            return None

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    @keras.saving.register_keras_serializable(package="user_models")
    class ScoredPooling(AttentionPooling):
        """The same layer exposing its raw scores (the convention export prefers)."""

        def attention_scores(self, x):
            from keras import ops

            return ops.squeeze(ops.matmul(ops.tanh(ops.matmul(x, self.w) + self.b),
                                          self.u), -1)

    return AttentionPooling, ScoredPooling


POOLING: tuple = ()


def text_classifier(vocab: int, classes: int, length: int, units: int = 16,
                    scores: bool = False, mask_zero: bool = True) -> Any:
    """Embedding(mask_zero) → Bidirectional(GRU) → pooling layer "pool" → Dense.

    ``scores``: the pooling layer also has ``attention_scores`` (export masks them itself).
    ``mask_zero=False``: an unmasked model (``pad_sequences`` users often train these).
    """
    import keras

    global POOLING
    POOLING = POOLING or _pooling_class()
    ids = keras.Input((length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab, 16, mask_zero=mask_zero)(ids)
    x = keras.layers.Bidirectional(keras.layers.GRU(units // 2, return_sequences=True))(x)
    pooled = POOLING[int(scores)](units, name="pool")(x)
    return keras.Model(ids, keras.layers.Dense(classes, activation="softmax")(pooled))


def date_lang_data(n: int = 1500, length: int = 24, seed: int = 0) -> tuple:
    """``(texts, ids [N, length], labels [N], tokenizer, label names)``, char level."""
    rows = TASKS["date-lang"].generate(n, seed)
    names = sorted({lab for lab, _ in rows})
    tok = WordTokenizer.build([t for _, t in rows], level="char")
    ids = _pad([tok.encode(t, add_eos=False) for _, t in rows], length)
    y = np.array([names.index(lab) for lab, _ in rows], "int32")
    return [t for _, t in rows], ids, y, tok, names


def tutorial_nmt(src_vocab: int, tgt_vocab: int, units: int = 32, embed: int = 16) -> tuple:
    """The TF NMT tutorial's Encoder / Decoder / BahdanauAttention (W1, W2, V), in Keras 3.

    Returns ``(encoder, decoder, trainer)``; ``trainer`` is a keras.Model looping the decoder
    over the target (teacher forcing) for ``fit``.
    """
    import keras
    from keras import ops

    class BahdanauAttention(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.W1, self.W2 = keras.layers.Dense(units), keras.layers.Dense(units)
            self.V = keras.layers.Dense(1)

        def call(self, query, values):
            score = self.V(ops.tanh(self.W1(ops.expand_dims(query, 1)) + self.W2(values)))
            weights = ops.softmax(score, axis=1)  # [B, S, 1]
            return ops.sum(weights * values, axis=1), weights

    class Encoder(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = keras.layers.Embedding(src_vocab, embed)
            self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

        def call(self, x):
            return self.gru(self.embedding(x))

    class Decoder(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = keras.layers.Embedding(tgt_vocab, embed)
            self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)
            self.fc = keras.layers.Dense(tgt_vocab)
            self.attention = BahdanauAttention(units)

        def call(self, x, hidden, enc_output):
            context, weights = self.attention(hidden, enc_output)
            x = ops.concatenate([ops.expand_dims(context, 1), self.embedding(x)], axis=-1)
            output, state = self.gru(x, initial_state=hidden)
            return self.fc(output[:, 0]), state, weights

    class Trainer(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder = encoder, decoder

        def call(self, inputs):
            source, target_in = inputs
            memory, hidden = self.encoder(source)
            steps = []
            for t in range(target_in.shape[1]):
                logits, hidden, _ = self.decoder(target_in[:, t:t + 1], hidden, memory)
                steps.append(logits)
            return ops.stack(steps, axis=1)

    encoder, decoder = Encoder(), Decoder()
    return encoder, decoder, Trainer(encoder, decoder)
