"""A Keras GRU/LSTM (or a Bidirectional of one) over a masked sequence as one TFLite WHILE loop.

Unrolled over the S padded steps, every step added ~20 operators and their tensors (with
quantization parameters in int8) to the flatbuffer, which dominated the size of small
quantized models; Keras's own loop converts to a WHILE the int8 calibrator crashes on. Here
the input projection of all steps is one matmul and the recurrence is a ``tf.while_loop``
whose body is converted once.

A Bidirectional layer runs as *one* loop over a cell of 2U units whose state is
``[h_fwd, h_bwd]``: the recurrent matrix is block-diagonal, gate columns are interleaved per
direction (``[z_f z_b r_f r_b n_f n_b]``), the backward half reads the time-reversed inputs
and mask. With one body per direction instead, int8 calibration mixed up the two bodies and
the backward outputs were off by 0.2 on average (measured); one body also halves the graph.

Every loop variable changes in every iteration: the calibrator crashes on a WHILE whose body
passes a tensor through unchanged (tensorflow#75140). So the projected inputs and the mask
are rotated by one step per iteration (the body reads position 0) and the outputs are
shifted left with the new step appended; after S iterations they are in time order.

Semantics follow ``keras.src.backend.tensorflow.rnn`` with a mask: a masked step keeps the
previous state and repeats the previous output; inside ``Bidirectional`` (which sets
``zero_output_for_mask``) outputs at masked steps are zero. GRU (``reset_after=True``):
z, r = σ(x W_zr + b_zr + h U_zr + c_zr);  n = tanh(x W_n + b_n + r ⊙ (h U_n + c_n));
h' = z ⊙ h + (1 − z) ⊙ n, computed as n + z ⊙ (h − n). LSTM: i, f, g, o = x W + b + h U;
c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c'). Masking: h ← h + m (h' − h), m ∈ {0, 1}.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_attn.runtime.errors import ExportError

GATES = {"gru": 3, "lstm": 4}


def _check_cell(cell: Any, keras: Any) -> str:
    """The cell kind, after checking it uses the standard activations this loop implements."""
    kind = "gru" if isinstance(cell, keras.layers.GRUCell) else (
        "lstm" if isinstance(cell, keras.layers.LSTMCell) else None)
    acts = (keras.activations.get(cell.activation), keras.activations.get(
        cell.recurrent_activation)) if kind else None
    if (kind is None or not cell.use_bias or acts != (keras.activations.tanh,
                                                      keras.activations.sigmoid)
            or (kind == "gru" and not cell.reset_after)):
        raise ExportError(f"cannot export recurrent cell {type(cell).__name__}: only GRU "
                          "(reset_after) and LSTM cells with tanh/sigmoid and biases are "
                          "supported")
    return kind


def _value(variable: Any) -> np.ndarray:
    """A variable's current value, also while tracing (the export freezes weights anyway)."""
    import tensorflow as tf

    with tf.init_scope():
        return np.asarray(variable.numpy())


def _weights(cell: Any, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray | None]:
    """``(kernel [E, G·U], input bias [G·U], recurrent kernel [U, G·U], recurrent bias)``.

    The recurrent bias is [G·U] for GRU and None for LSTM (its one bias is the input bias).
    """
    bias = _value(cell.bias)
    kernel, rec = _value(cell.kernel), _value(cell.recurrent_kernel)
    return (kernel, bias[0], rec, bias[1]) if kind == "gru" else (kernel, bias, rec, None)


def _step(tf: Any, kind: str, u: int, xt: Any, states: list, rec_kernel: Any,
          rec_bias: Any) -> list:
    """One cell step of width ``u`` on projected inputs ``xt`` [B, G·u]; the new states."""
    h = states[0]
    rec = tf.matmul(h, rec_kernel)
    if kind == "gru":
        rec = rec + rec_bias
        x_zr, x_n = tf.split(xt, [2 * u, u], axis=-1)
        r_zr, r_n = tf.split(rec, [2 * u, u], axis=-1)
        z, r = tf.split(tf.sigmoid(x_zr + r_zr), 2, axis=-1)
        n = tf.tanh(x_n + r * r_n)
        return [n + z * (h - n)]
    i, f, g, o = tf.split(xt + rec, 4, axis=-1)
    c = tf.sigmoid(f) * states[1] + tf.sigmoid(i) * tf.tanh(g)
    return [tf.sigmoid(o) * tf.tanh(c), c]


def _rotate(tf: Any, x: Any) -> Any:
    """``x`` [B, S, ...] with step 0 moved to the end (TFLite has no builtin ROLL)."""
    return tf.concat([x[:, 1:], x[:, :1]], axis=1)


def _unrolled(tf: Any, kind: str, proj: Any, m: Any, rec_kernel: Any,
              rec_bias: Any) -> list:
    """:func:`_loop` as S copies of the step (no WHILE): a larger graph, a faster encoder."""
    states = [tf.zeros_like(m[:, 0])] * (1 if kind == "gru" else 2)
    outs = []
    for t in range(int(proj.shape[1])):
        new = _step(tf, kind, int(m.shape[-1]), proj[:, t], states, rec_kernel, rec_bias)
        states = [o + m[:, t] * (n - o) for n, o in zip(new, states)]
        outs.append(states[0])
    return [tf.stack(outs, axis=1), *states]


def _loop(tf: Any, kind: str, proj: Any, m: Any, rec_kernel: Any, rec_bias: Any,
          float_counter: bool, unroll: bool = False) -> list:
    """Run the recurrence of width u over S steps.

    Args:
        proj: [B, S, G·u] projected inputs (input bias included).
        m: [B, S, u] float mask (0 or 1) per step and state unit.
        rec_kernel: [u, G·u]; rec_bias: [G·u] (GRU) or None.
        float_counter: Count steps in float32 (see :func:`run_recurrent`).
        unroll: Emit the S steps one after another instead of a WHILE loop.

    Returns:
        ``[outputs [B, S, u], h [B, u]]`` (+ ``c`` for LSTM).
    """
    if unroll:
        return _unrolled(tf, kind, proj, m, rec_kernel, rec_bias)
    s, u = int(proj.shape[1]), int(m.shape[-1])
    seq = tf.concat([proj, m], axis=-1)  # one rotated tensor carries inputs and mask
    g = int(proj.shape[-1])
    zeros = tf.zeros_like(m[:, 0])

    def body(i, seq, outs, *states):
        states = list(states)
        xt, mt = tf.split(seq[:, 0], [g, u], axis=-1)
        new = _step(tf, kind, u, xt, states, rec_kernel, rec_bias)
        states = [o + mt * (n - o) for n, o in zip(new, states)]
        outs = tf.concat([outs[:, 1:], states[0][:, None]], axis=1)
        return (i + 1, _rotate(tf, seq), outs, *states)

    start, end = (tf.constant(0.0), s - 0.5) if float_counter else (tf.constant(0), s)
    init = (start, seq, tf.zeros_like(m), *([zeros] * (1 if kind == "gru" else 2)))
    _, _, outs, *states = tf.while_loop(lambda i, *_: i < end, body, init)
    return [outs, *states]


def _project(tf: Any, x: Any, kernel: np.ndarray, bias: np.ndarray) -> Any:
    """[B, S, E] @ [E, F] + [F] as one FULLY_CONNECTED on [B·S, E]."""
    s, e = int(x.shape[1]), int(x.shape[2])
    return tf.reshape(tf.matmul(tf.reshape(x, [-1, e]), kernel) + bias, [-1, s, kernel.shape[1]])


def _interleave(a: np.ndarray, b: np.ndarray, gates: int) -> np.ndarray:
    """Gate blocks of two directions side by side: ``[a_g0 b_g0 a_g1 b_g1 …]`` (last axis)."""
    pa, pb = np.split(a, gates, axis=-1), np.split(b, gates, axis=-1)
    return np.concatenate([t for pair in zip(pa, pb) for t in pair], axis=-1)


def run_layer(layer: Any, x: Any, mask: Any, float_counter: bool = False,
              unroll: bool = False) -> list:
    """One GRU/LSTM layer (not go_backwards) over a masked sequence.

    Args:
        layer: ``keras.layers.GRU`` or ``LSTM`` with ``return_sequences=True``.
        x: [B, S, E] inputs, S static.
        mask: bool [B, S], True for real steps.
        float_counter: Count steps in float32 (see :func:`run_recurrent`).
        unroll: S step copies instead of a WHILE loop (see :func:`run_recurrent`).

    Returns:
        ``[outputs [B, S, U], h [B, U]]`` (+ ``c`` for LSTM), as Keras returns them.
    """
    import keras
    import tensorflow as tf

    cell = layer.cell
    kind = _check_cell(cell, keras)
    kernel, in_bias, rec_kernel, rec_bias = _weights(cell, kind)
    m = tf.cast(mask, tf.float32)[:, :, None] * tf.ones([cell.units])
    out = _loop(tf, kind, _project(tf, x, kernel, in_bias), m, rec_kernel, rec_bias,
                float_counter, unroll)
    if layer.zero_output_for_mask:
        out[0] = out[0] * m
    return out


def run_bidirectional(layer: Any, x: Any, mask: Any, float_counter: bool = False,
                      unroll: bool = False) -> list:
    """A ``Bidirectional`` GRU/LSTM as one loop over the two directions side by side.

    Args: as :func:`run_layer`.

    Returns:
        ``[outputs [B, S, 2U], *forward states, *backward states]``.
    """
    import keras
    import tensorflow as tf

    fwd, bwd = layer.forward_layer.cell, layer.backward_layer.cell
    kind = _check_cell(fwd, keras)
    if _check_cell(bwd, keras) != kind or fwd.units != bwd.units:
        raise ExportError("cannot export a Bidirectional layer whose directions differ")
    gates, u = GATES[kind], fwd.units
    (kf, bf, uf, rf), (kb, bb, ub, rb) = _weights(fwd, kind), _weights(bwd, kind)
    pf = _project(tf, x, kf, bf)
    pb = _project(tf, tf.reverse(x, [1]), kb, bb)
    s = int(x.shape[1])
    proj = tf.reshape(tf.stack([tf.reshape(pf, [-1, s, gates, u]),
                                tf.reshape(pb, [-1, s, gates, u])], axis=3),
                      [-1, s, gates * 2 * u])
    zero = np.zeros_like(uf)  # block-diagonal: each half of the state feeds its own gates
    rec_kernel = np.concatenate([_interleave(uf, zero, gates), _interleave(zero, ub, gates)])
    rec_bias = None if rf is None else _interleave(rf, rb, gates)
    mf = tf.cast(mask, tf.float32)[:, :, None] * tf.ones([u])
    m = tf.concat([mf, tf.reverse(mf, [1])], axis=-1)
    outs, *states = _loop(tf, kind, proj, m, rec_kernel, rec_bias, float_counter, unroll)
    outs = outs * m  # Bidirectional sets zero_output_for_mask
    seq = tf.concat([outs[..., :u], tf.reverse(outs[..., u:], [1])], axis=-1)
    return [seq, *[st[:, :u] for st in states], *[st[:, u:] for st in states]]


def run_recurrent(layer: Any, x: Any, mask: Any, float_counter: bool = False,
                  unroll: bool = False) -> Any:
    """Same result as ``layer(x, mask=mask)`` for the encoders edge-attn models build.

    Args:
        layer: GRU/LSTM with ``return_sequences=True``, or a ``Bidirectional`` of one
            (``merge_mode="concat"``).
        x: [B, S, E] inputs.
        mask: bool [B, S].
        float_counter: Count the loop's steps in float32. The 16x8 quantizer asks calibration
            ranges for the int32 counter of the WHILE condition and fails
            (tensorflow#60799); with a float counter the WHILE and its condition stay float.
        unroll: Emit S copies of the step instead of one WHILE loop: a larger flatbuffer
            (every copy has its own tensors), but no loop machinery per step — the encoder
            ran 2–3× faster on tflite-runtime 2.14 and faster on ai-edge-litert too
            (``benchmarks/`` measures both).

    Returns:
        The outputs [B, S, U] alone, or ``[outputs, *states]`` when the layer returns states
        (Bidirectional: forward states, then backward states).

    Raises:
        ExportError: A layer or setting this loop does not implement.
    """
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        if layer.merge_mode != "concat":
            raise ExportError(f"cannot export Bidirectional(merge_mode={layer.merge_mode!r})")
        out = run_bidirectional(layer, x, mask, float_counter, unroll)
        return out if layer.return_state else out[0]
    if not isinstance(layer, (keras.layers.GRU, keras.layers.LSTM)) or layer.go_backwards:
        raise ExportError(f"cannot export recurrent layer {type(layer).__name__}")
    if not layer.return_sequences:
        raise ExportError("cannot export a recurrent layer without return_sequences")
    out = run_layer(layer, x, mask, float_counter, unroll)
    return out if layer.return_state else out[0]
