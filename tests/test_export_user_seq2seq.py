"""A user's functional Keras seq2seq → derived encode/step (issue 12, style 1).

Reference = the user's own teacher-forced Keras model fed its own greedy outputs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_attn.export.keras_derive import analyse
from edge_attn.export.lowering import TFLITE_CALLS
from edge_attn.export.user_endpoints import pair_greedy, teacher_forced_greedy
from edge_attn.export.user_seq2seq import derive_seq2seq
from edge_attn.runtime.errors import ExportError, InputError


def _helpers():
    name = "user_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            "user_models.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


um = _helpers()


@pytest.fixture(scope="module")
def dates() -> um.Seq2SeqData:
    return um.dates_data()


@pytest.fixture(scope="module")
def trained(dates: um.Seq2SeqData):
    """The classic recipe (biLSTM, Keras Attention, mask_zero), trained for seconds."""
    model = um.functional_seq2seq(dates.src_tok.vocab_size, dates.tgt_tok.vocab_size)
    return um.train_seq2seq(model, dates, epochs=3)


def _probs_gap(model, pair, source, target_in, calls=None) -> float:
    """max |Δ| of next-token probabilities, teacher-forced, derived step vs the model, over
    real target steps (at padded ones a masked model holds its state)."""
    import keras

    ref = np.asarray(model([source, target_in], training=False))
    mask = (source != 0).astype("float32")
    kw = {} if calls is None else {"calls": calls}
    memory, keys, states = pair.encode(source, mask, **kw)
    worst = 0.0
    for t in range(target_in.shape[1]):
        logits, states, att = pair.step(target_in[:, t], states, memory, keys, mask, **kw)
        probs = np.asarray(keras.ops.softmax(logits))
        real = target_in[:, t] != 0
        worst = max(worst, float(np.abs(probs - ref[:, t])[real].max(initial=0.0)))
        assert np.allclose(np.asarray(att).sum(-1), 1.0, atol=1e-5)
        assert np.all(np.asarray(att)[mask == 0] == 0.0) or not pair.masked
    return worst


def test_trained_recipe_greedy_tokens_identical(trained, dates) -> None:
    pair = derive_seq2seq(trained)
    source = dates.source[-120:]
    ref = teacher_forced_greedy(trained, source, bos=2, eos=3, max_len=um.T)
    got = pair_greedy(pair, source, bos=2, eos=3, max_len=um.T)
    assert got == ref
    assert pair.state_names == ["state_h", "state_c"] and pair.masked
    assert _probs_gap(trained, pair, source[:16], dates.target_in[-120:-104],
                      TFLITE_CALLS) < 1e-5


@pytest.mark.parametrize("cell,bi,attention,mask_zero", [
    ("gru", False, "additive", True), ("gru", True, "mha", False),
    ("lstm", False, "additive", False), ("lstm", True, "mha", True)])
def test_variants_equal_the_model(dates, cell, bi, attention, mask_zero) -> None:
    import keras

    keras.utils.set_random_seed(1)
    model = um.functional_seq2seq(dates.src_tok.vocab_size, dates.tgt_tok.vocab_size, cell,
                                  bi, attention, mask_zero, units=16)
    pair = derive_seq2seq(model)
    src, tgt = dates.source[:8], dates.target_in[:8]
    assert _probs_gap(model, pair, src, tgt) < 1e-6
    assert _probs_gap(model, pair, src, tgt, TFLITE_CALLS) < 1e-5
    assert pair.state_names == (["state_h"] if cell == "gru" else ["state_h", "state_c"])


# -- graphs derive must refuse, with a message naming what it found ---------------------------

def _inputs():
    import keras

    return (keras.Input((um.S,), dtype="int32", name="source"),
            keras.Input((um.T,), dtype="int32", name="target"))


def test_transformer_is_refused() -> None:
    import keras

    src, tgt = _inputs()
    x = keras.layers.Embedding(20, 8)(src)
    y = keras.layers.Embedding(20, 8)(tgt)
    y = keras.layers.MultiHeadAttention(2, 4)(y, y, use_causal_mask=True)
    y = keras.layers.MultiHeadAttention(2, 4)(y, x)
    model = keras.Model([src, tgt], keras.layers.Dense(20, activation="softmax")(y))
    with pytest.raises(ExportError, match="Transformer.*export_seq2seq"):
        analyse(model)


def test_attention_before_the_rnn_is_refused() -> None:
    import keras

    src, tgt = _inputs()
    memory, h = keras.layers.GRU(8, return_sequences=True, return_state=True)(
        keras.layers.Embedding(20, 8)(src))
    y = keras.layers.Embedding(20, 8)(tgt)
    ctx = keras.layers.Attention()([y, memory])
    dec = keras.layers.GRU(8, return_sequences=True)(
        keras.layers.Concatenate()([y, ctx]), initial_state=h)
    model = keras.Model([src, tgt], keras.layers.Dense(20, activation="softmax")(dec))
    with pytest.raises(ExportError, match="feeds the decoder's input.*input feeding"):
        analyse(model)


def test_unknown_layer_in_decoder_path_is_refused() -> None:
    import keras

    class Odd(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    src, tgt = _inputs()
    memory, h = keras.layers.GRU(8, return_sequences=True, return_state=True)(
        keras.layers.Embedding(20, 8)(src))
    dec = keras.layers.GRU(8, return_sequences=True)(
        keras.layers.Embedding(20, 8)(tgt), initial_state=h)
    ctx = keras.layers.Attention()([dec, memory])
    x = Odd(name="odd_scaler")(keras.layers.Concatenate()([dec, ctx]))
    model = keras.Model([src, tgt], keras.layers.Dense(20, activation="softmax")(x))
    with pytest.raises(ExportError, match="unsupported layer odd_scaler \\(Odd\\)"):
        analyse(model)


def test_model_without_attention_is_refused() -> None:
    import keras

    src, tgt = _inputs()
    _, h = keras.layers.GRU(8, return_sequences=True, return_state=True)(
        keras.layers.Embedding(20, 8)(src))
    dec = keras.layers.GRU(8, return_sequences=True)(
        keras.layers.Embedding(20, 8)(tgt), initial_state=h)
    model = keras.Model([src, tgt], keras.layers.Dense(20, activation="softmax")(dec))
    with pytest.raises(InputError, match="no attention layer"):
        analyse(model)


def test_single_input_model_is_refused() -> None:
    import keras

    src = keras.Input((um.S,), dtype="int32")
    model = keras.Model(src, keras.layers.Dense(3)(keras.layers.Embedding(20, 8)(src)))
    with pytest.raises(InputError, match="1 inputs.*two inputs"):
        analyse(model)


# -- the callable API (style 2): the TF NMT tutorial's Encoder / Decoder / Bahdanau -----------

def _tflite_greedy(model_bytes: bytes, names: list[str], source: np.ndarray,
                   steps: int) -> list[list[int]]:
    from edge_attn.runtime import constants as C
    from edge_attn.runtime.session import Session

    session = Session(model_bytes, 1)
    mask = (source != 0).astype("float32")
    enc = session.run(C.ENCODE, {C.ENC_TOKENS: source, C.ENC_MASK: mask})
    token, states, out = np.full(len(source), 2, "int32"), {n: enc[n] for n in names}, []
    for _ in range(steps):
        res = session.run(C.DECODE_STEP, {C.DEC_TOKEN: token, C.DEC_MEMORY: enc[C.ENC_MEMORY],
                                          C.DEC_KEYS: enc[C.ENC_KEYS], C.DEC_MASK: mask,
                                          **states})
        states = {n: res[n] for n in names}
        token = res[C.DEC_LOG_PROBS].argmax(-1).astype("int32")
        out.append(token)
    return [r[:r.index(3)] if 3 in r else r for r in np.stack(out, 1).tolist()]


def _export_pair(pair, owners, mode: str, data=None) -> bytes:
    import tempfile

    from edge_attn.export.convert import convert
    from edge_attn.export.quantization import quant_config
    from edge_attn.export.user_endpoints import seq2seq_endpoints, trace_endpoints
    from edge_attn.runtime import constants as C

    def rep():
        for start in range(0, 64, 8):
            src, tgt = data.source[start:start + 8], data.target_in[start:start + 8]
            mask = (src != 0).astype("float32")
            yield C.ENCODE, {C.ENC_TOKENS: src, C.ENC_MASK: mask}
            memory, keys, states = pair.encode(src, mask)
            for t in range(tgt.shape[1]):
                yield C.DECODE_STEP, {C.DEC_TOKEN: tgt[:, t], C.DEC_MEMORY: np.asarray(memory),
                                      C.DEC_KEYS: np.asarray(keys), C.DEC_MASK: mask,
                                      **{n: np.asarray(s) for n, s in
                                         zip(pair.state_names, states)}}
                _, states, _ = pair.step(tgt[:, t], states, memory, keys, mask)

    with tempfile.TemporaryDirectory() as tmp:
        names = trace_endpoints(owners, seq2seq_endpoints(pair, um.S, TFLITE_CALLS),
                                Path(tmp) / "sm")
        return convert(Path(tmp) / "sm", names, quant_config(mode), rep if data else None)


def test_callable_api_tutorial_models(dates) -> None:
    import keras

    from edge_attn.export.user_callables import CallableSeq2Seq

    keras.utils.set_random_seed(3)
    enc, dec, _ = um.tutorial_nmt(dates.src_tok.vocab_size, dates.tgt_tok.vocab_size)
    pair = CallableSeq2Seq(lambda tokens, mask: enc(tokens),
                           lambda token, h, memory, mask: dec(token[:, None], h, memory),
                           owners=[enc, dec], source_len=um.S, max_target_len=um.T)
    assert pair.state_names == ["state_h"]
    source = dates.source[:64]
    ref = pair_greedy(pair, source, bos=2, eos=3, max_len=um.T)
    got = _tflite_greedy(_export_pair(pair, [enc, dec], "float32"), pair.state_names,
                         source, um.T)
    assert got == ref
    q = _tflite_greedy(_export_pair(pair, [enc, dec], "int8", dates), pair.state_names,
                       source, um.T)
    print(f"callable int8 sentence agreement {np.mean([a == b for a, b in zip(q, ref)]):.3f}")


def test_derived_pair_exports(trained, dates) -> None:
    pair = derive_seq2seq(trained)
    source = dates.source[-100:]
    ref = teacher_forced_greedy(trained, source, bos=2, eos=3, max_len=um.T)
    assert _tflite_greedy(_export_pair(pair, [trained], "float32"), pair.state_names,
                          source, um.T) == ref
    q = _tflite_greedy(_export_pair(pair, [trained], "int8", dates), pair.state_names,
                       source, um.T)
    print(f"derived int8 sentence agreement {np.mean([a == b for a, b in zip(q, ref)]):.3f}")


def test_callable_api_bad_callables() -> None:
    import keras

    from edge_attn.export.user_callables import CallableSeq2Seq

    with pytest.raises(InputError, match="owners must list"):
        CallableSeq2Seq(lambda t, m: t, lambda *a: a, owners=[], source_len=4,
                        max_target_len=4)
    layer = keras.layers.Dense(3)
    with pytest.raises(ExportError, match="encode must return \\(memory, states\\)"):
        CallableSeq2Seq(lambda t, m: m, lambda *a: a, owners=[layer], source_len=4,
                        max_target_len=4)


def _left_pad(source: np.ndarray) -> np.ndarray:
    out = np.zeros_like(source)
    for i, row in enumerate(source):
        real = row[row != 0]
        out[i, len(row) - len(real):] = real
    return out


def test_pre_padding_unmasked_model(dates) -> None:
    """pad_sequences' default: an unmasked model trained on left-padded sources. The runtime
    right-pads; padding='pre' moves the padding inside encode, so tokens stay identical."""
    import dataclasses

    model = um.functional_seq2seq(dates.src_tok.vocab_size, dates.tgt_tok.vocab_size, "gru",
                                  False, "additive", mask_zero=False, units=16)
    left = dataclasses.replace(dates, source=_left_pad(dates.source))
    um.train_seq2seq(model, left, epochs=1)
    right = dates.source[-60:]
    ref = teacher_forced_greedy(model, _left_pad(right), bos=2, eos=3, max_len=um.T)
    post = pair_greedy(derive_seq2seq(model), right, bos=2, eos=3, max_len=um.T)
    pair = derive_seq2seq(model, padding="pre")
    assert pair_greedy(pair, right, bos=2, eos=3, max_len=um.T) == ref
    assert post != ref  # the wrong side silently changes an unmasked model's outputs
    assert _tflite_greedy(_export_pair(pair, [model], "float32"), pair.state_names, right,
                          um.T) == ref
