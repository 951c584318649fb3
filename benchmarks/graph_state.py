"""Issue #14's optional levers, measured on a trained checkpoint: the decoder state kept in
the interpreter (resource variables) and an in-graph greedy loop, each against the stateless
``decode_step`` the runtime drives.

Three float32 graphs are built from the checkpoint's Keras model with the export's lowering
(the same :meth:`Seq2Seq.step` body as the exported ``decode_step``), batch 1:

- ``stateless``: ``decode_step(token, *states, memory, keys, mask)``, driven as
  :func:`edge_attn.runtime.fast_greedy.greedy_bound` drives it (memory, keys and mask set once
  per sentence; per step: invoke, argmax on a view of ``log_probs``, copy the attention row,
  set the token, set the state from a view of the new one);
- ``variables``: ``start(*states, memory, keys, mask)`` assigns resource variables once per
  sentence, ``step(token)`` reads them and assigns the new state (per step: invoke, argmax,
  attention row, token);
- ``loop``: ``greedy(*states, memory, keys, mask)``: one WHILE over ``steps`` forced steps,
  argmax fed back inside the graph (built-in ops only), ids and attention rows out.

All three decode the same sentence for ``steps`` steps (no ``<eos>`` stop, as the bench's
forced sentences) and must give the same ids. The figure is the sentence's decoding (start
included, encode excluded: the same for all) in alternating blocks, median of the
within-block ratios to ``stateless``. The runtime keeps ``stateless``: stateless calls are
what make a session thread-safe per call and any batch size possible (variables have static
shapes), and neither alternative wins more than a few per cent here (benchmarks/real.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

BLOCKS, PER_BLOCK = 15, 8


def _graphs(model: Any, tf: Any, calls: Any, s: int, steps: int) -> dict[str, Any]:
    """The three tf.Modules (see the module docstring)."""
    names, h = model.state_names, model.hp["units"]
    k = int(model.attention.precompute(tf.zeros([1, s, h])).shape[-1])
    shapes = [[1, 1 if n == "state_position" else h] for n in names]
    static = [tf.TensorSpec([1, s, h], tf.float32, name="memory"),
              tf.TensorSpec([1, s, k], tf.float32, name="keys"),
              tf.TensorSpec([1, s], tf.float32, name="mask")]
    state_specs = [tf.TensorSpec(sh, tf.float32, name=n) for sh, n in zip(shapes, names)]
    token_spec = tf.TensorSpec([1], tf.int32, name="token")

    def pure(token, *rest):
        states, (memory, keys, mask) = list(rest[:len(names)]), rest[len(names):]
        logits, new_states, attention = model.step(token, states, memory, keys, mask, calls)
        return [tf.nn.log_softmax(logits, -1), attention, *new_states]

    # The Keras weights as constants (as export/ freezes them): with resource variables
    # enabled, the converter would otherwise keep every weight a variable too.
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    frozen = convert_variables_to_constants_v2(tf.function(pure).get_concrete_function(
        token_spec, *state_specs, *static))

    def step(token, states, memory, keys, mask):
        lp, att, *new = frozen(token, *states, memory, keys, mask)
        return lp, new, att

    class Stateless(tf.Module):
        @tf.function(input_signature=[token_spec, *state_specs, *static])
        def decode_step(self, token, *rest):
            lp, new, att = step(token, list(rest[:len(names)]), *rest[len(names):])
            return {"log_probs": lp, "attention": att, **dict(zip(names, new))}

    class Variables(tf.Module):
        def __init__(self) -> None:
            self.states = [tf.Variable(tf.zeros(sh)) for sh in shapes]
            self.static = [tf.Variable(tf.zeros(sp.shape)) for sp in static]

        @tf.function(input_signature=[*state_specs, *static])
        def start(self, *values):
            for var, value in zip(self.states + self.static, values):
                var.assign(value)
            return {"started": tf.constant(1)}

        @tf.function(input_signature=[token_spec])
        def step(self, token):
            lp, new, att = step(token, [v.read_value() for v in self.states],
                                *[v.read_value() for v in self.static])
            for var, value in zip(self.states, new):
                var.assign(value)
            return {"log_probs": lp, "attention": att}

    class Loop(tf.Module):
        @tf.function(input_signature=[token_spec, *state_specs, *static])
        def greedy(self, token, *rest):
            memory, keys, mask = rest[len(names):]
            at = tf.range(steps)

            def body(i, tok, ids, rows, score, *states):
                lp, new, att = step(tok, list(states), memory, keys, mask)
                nxt = tf.cast(tf.argmax(lp, -1), tf.int32)
                hot = tf.cast(tf.equal(at, i), tf.float32)  # one-hot row i: built-in ops only
                # the score keeps the log-softmax (an argmax alone lets the converter drop it)
                return (i + 1, nxt, ids + tf.cast(hot, tf.int32) * nxt,
                        rows + hot[:, None] * att, score + tf.reduce_max(lp, -1), *new)

            out = tf.while_loop(lambda i, *_: i < steps, body,
                                [tf.constant(0), token, tf.zeros([steps], tf.int32),
                                 tf.zeros([steps, s]), tf.zeros([1]), *rest[:len(names)]])
            return {"ids": out[2], "attention": out[3], "score": out[4]}

    return {"stateless": (Stateless(), ["decode_step"]), "variables": (Variables(),
            ["start", "step"]), "loop": (Loop(), ["greedy"])}


def _convert(tf: Any, module: Any, signatures: list[str]) -> bytes:
    """float32 TFLite of ``module``'s functions, through a SavedModel (named signatures)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tf.saved_model.save(module, tmp, signatures={
            n: getattr(module, n).get_concrete_function() for n in signatures})
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=signatures)
        conv.experimental_enable_resource_variables = True
        return conv.convert()


class _Runner:
    """One graph's greedy sentence on the raw interpreter wrapper (as the runtime calls it)."""

    def __init__(self, kind: str, model_bytes: bytes, feeds: dict[str, np.ndarray],
                 names: list[str], steps: int, bos: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_content=model_bytes, num_threads=1)
        self.w, self.kind, self.steps, self.names = self.interp._interpreter, kind, steps, names
        self.token = np.array([bos], np.int32)
        self.bos = bos
        sig = {"stateless": "decode_step", "variables": "step", "loop": "greedy"}[kind]
        runner = self.interp.get_signature_runner(sig)
        if kind == "variables":
            self.start = self.interp.get_signature_runner("start")
            self.start(**feeds)  # a variable is read only once assigned
        runner(**({"token": self.token} if kind == "variables" else
                  {"token": self.token, **feeds}))  # allocate
        self.sub = int(runner._subgraph_index)
        self.ins = {k: int(d["index"]) for k, d in runner.get_input_details().items()}
        self.outs = {k: int(d["index"]) for k, d in runner.get_output_details().items()}
        self.feeds = feeds

    def __call__(self) -> list[int]:
        w, sub, ins, outs = self.w, self.sub, self.ins, self.outs
        self.token[0] = self.bos
        if self.kind == "variables":
            self.start(**self.feeds)
        else:
            for name, value in self.feeds.items():
                w.SetTensor(ins[name], value, sub)
        w.SetTensor(ins["token"], self.token, sub)
        if self.kind == "loop":
            w.Invoke(sub)
            w.GetTensor(outs["attention"], sub)
            return w.GetTensor(outs["ids"], sub).tolist()
        ids, rows = [], []
        for _ in range(self.steps):
            w.Invoke(sub)
            tok = int(w.tensor(w, outs["log_probs"], sub)[0].argmax())
            rows.append(w.GetTensor(outs["attention"], sub))
            ids.append(tok)
            self.token[0] = tok
            w.SetTensor(ins["token"], self.token, sub)
            if self.kind == "stateless":
                for n in self.names:
                    w.SetTensor(ins[n], w.tensor(w, outs[n], sub), sub)
        return ids


def measure(ckpt: Path, text: str, steps: int = 15) -> dict[str, Any]:
    """``{"same_ids", "sentence_us": {kind: µs}, "ratio": {kind: ×stateless}}`` for one
    checkpoint and sentence (float32, 1 thread, ai-edge-litert)."""
    import tensorflow as tf

    from edge_attn.export.lowering import TFLITE_CALLS
    from edge_attn.runtime.stepper import pad_sources, source_mask
    from edge_attn.training.checkpoint import load_checkpoint

    ck = load_checkpoint(ckpt)
    model, src, tgt = ck.model, ck.tokenizers["source"], ck.tokenizers["target"]
    s = ck.config["max_source_len"]
    tokens = pad_sources([src.encode(text, add_eos=False, max_len=s)], s)
    mask = source_mask(tokens)
    memory, keys, states = model.encode(tokens, mask)
    feeds = {**{n: np.asarray(v, np.float32) for n, v in zip(model.state_names, states)},
             "memory": np.asarray(memory, np.float32), "keys": np.asarray(keys, np.float32),
             "mask": mask}
    runners = {}
    for kind, (module, sigs) in _graphs(model, tf, TFLITE_CALLS, s, steps).items():
        runners[kind] = _Runner(kind, _convert(tf, module, sigs), feeds, model.state_names,
                                steps, tgt.BOS_ID)
    ids = {kind: r() for kind, r in runners.items()}
    blocks: dict[str, list[float]] = {kind: [] for kind in runners}
    for _ in range(BLOCKS):
        for kind, r in runners.items():
            best = float("inf")
            for _ in range(PER_BLOCK):
                t0 = time.perf_counter()
                r()
                best = min(best, time.perf_counter() - t0)
            blocks[kind].append(best * 1e6)
    base = np.array(blocks["stateless"])
    return {"steps": steps, "vocab": int(tgt.vocab_size),
            "same_ids": all(v == ids["stateless"] for v in ids.values()),
            "sentence_us": {k: round(float(np.median(v)), 1) for k, v in blocks.items()},
            "ratio": {k: round(float(np.median(np.array(v) / base)), 3)
                      for k, v in blocks.items()}}
