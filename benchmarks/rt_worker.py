"""Runtime latency of seq2seq artifacts on one backend, in its own process (no TensorFlow).

Run by :mod:`latency` with the main venv's python (ai-edge-litert) and with ``.venv-rt``'s
python (tflite-runtime, numpy<2), so both backends are measured the same way, away from the
TensorFlow process. Reads a JSON spec file, prints one JSON document:

``{"backend": {...}, "numpy": "...", "modes": {mode: {...} | {"error": "..."}}}``.

Per mode: load time; ``encode`` and ``decode_step`` through the runtime's ``Session.run``; a
greedy sentence of exactly ``steps`` tokens and one of ``LONG × steps`` tokens, both through
the path ``translate()`` takes (``min_len = max_len``: the difference per extra step is the
runtime's marginal cost of one decode step); real ``translate()`` calls (stop at ``<eos>``);
and the raw interpreter floor — set inputs, invoke, read outputs on the signature's subgraph,
no decoding logic — two ways: every input set on every call, and only the inputs a decode
step changes (token and state; memory, keys and mask set once), the least any decode loop
must do.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

from edge_attn.runtime import constants as C
from edge_attn.runtime.backend import make_interpreter
from edge_attn.runtime.errors import EdgeAttnError
from edge_attn.runtime.model import encode_source
from edge_attn.runtime.profile import forced_greedy, summarize, time_calls
from edge_attn.runtime.translator import Translator

LONG = 4  # the long forced sentence has LONG × steps steps: the slope gives the per-step cost


def bare_interpreter(model_bytes: bytes, threads: int | None, backend: str | None) -> Any:
    """A bare interpreter set up as the runtime sets its own: the whole-interpreter
    allocation first, which applies tflite-runtime 2.14's default XNNPACK delegate (a
    signature's own allocation does not: the float32 floor ran on the built-in kernels
    there, 2-3x slower than the runtime it is the floor of)."""
    interp, _ = make_interpreter(model_bytes, threads, backend)
    interp.allocate_tensors()
    return interp


class RawSignature:
    """One signature called straight on the interpreter wrapper: the invoke floor."""

    def __init__(self, interp: Any, name: str, feeds: dict[str, np.ndarray],
                 changing: list[str] | None = None) -> None:
        runner = interp.get_signature_runner(name)
        self.w, self.sub = interp._interpreter, int(runner._subgraph_index)
        ins, outs = runner.get_input_details(), runner.get_output_details()
        self.inputs = [(int(ins[k]["index"]), np.ascontiguousarray(v, ins[k]["dtype"]))
                       for k, v in feeds.items()]
        self.outputs = [int(d["index"]) for d in outs.values()]
        for index, arr in self.inputs:
            self.w.ResizeInputTensor(index, np.array(arr.shape, np.int32), False, self.sub)
        self.w.AllocateTensors(self.sub)
        for index, arr in self.inputs:
            self.w.SetTensor(index, arr, self.sub)
        if changing is not None:  # the others stay in the input buffers
            self.inputs = [(int(ins[k]["index"]), np.ascontiguousarray(feeds[k], ins[k]["dtype"]))
                           for k in changing]

    def __call__(self) -> list[np.ndarray]:
        w, sub = self.w, self.sub
        for index, arr in self.inputs:
            w.SetTensor(index, arr, sub)
        w.Invoke(sub)
        return [w.GetTensor(i, sub) for i in self.outputs]


class RawSentence:
    """A greedy sentence's interpreter work alone on a bare interpreter: encode (set inputs,
    invoke, read outputs), set the decoder's static inputs from it, then ``steps`` × (set
    token and state, invoke, read every output). No decoding logic: the token fed is fixed."""

    def __init__(self, interp: Any, tr: Translator, enc_feed: dict, dec_feed: dict,
                 steps: int) -> None:
        self.enc = RawSignature(interp, C.ENCODE, enc_feed)
        self.dec = RawSignature(interp, C.DECODE_STEP, dec_feed, [C.DEC_TOKEN, *tr.states])
        runner = interp.get_signature_runner(C.DECODE_STEP)
        ins = runner.get_input_details()
        enc_outs = interp.get_signature_runner(C.ENCODE).get_output_details()
        order = list(enc_outs)  # RawSignature returns outputs in this order
        self.static = [(int(ins[k]["index"]), order.index(k))
                       for k in (C.DEC_MEMORY, C.DEC_KEYS, *tr.states)]
        self.mask_index = int(ins[C.DEC_MASK]["index"])
        self.mask = np.ascontiguousarray(enc_feed[C.ENC_MASK], np.float32)
        self.steps = steps

    def __call__(self) -> None:
        outs = self.enc()
        w, sub = self.dec.w, self.dec.sub
        for index, j in self.static:
            w.SetTensor(index, outs[j], sub)
        w.SetTensor(self.mask_index, self.mask, sub)
        for _ in range(self.steps):
            self.dec()


def interleaved(fns: dict[str, tuple[Any, int]], warmup: int, blocks: int = 10,
                per_block: dict[str, list[float]] | None = None) -> dict:
    """Time every function (``name: (fn, runs)``) in alternating blocks, so that a busy or
    throttled machine slows all competitors alike: ``{name: summary}``. With ``per_block``
    (a dict to fill) also each function's fastest call (µs) of every block: ratios paired
    within a block compare runs made under the same load."""
    for fn, _ in fns.values():
        time_calls(fn, 0, warmup)
    samples: dict[str, list[int]] = {name: [] for name in fns}
    for _ in range(blocks):
        for name, (fn, runs) in fns.items():
            block = time_calls(fn, max(1, runs // blocks), 0)
            samples[name] += block
            if per_block is not None:
                per_block.setdefault(name, []).append(min(block) / 1e3)
    return {name: summarize(s) for name, s in samples.items()}


def _real_translate(tr: Translator, texts: list[str], runs: int) -> dict[str, Any]:
    samples, steps = [], []
    for i in range(runs):
        text = texts[i % len(texts)]
        t0 = time.perf_counter_ns()
        (out,) = tr.translate(text)
        samples.append(time.perf_counter_ns() - t0)
        steps.append(len(out.ids) + int(out.finished))
    return {"latency_us": summarize(samples), "mean_steps": float(np.mean(steps)),
            "per_step_us": float(np.sum(samples) / 1e3 / max(1, np.sum(steps)))}


def measure(path: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Every figure for one artifact (see the module docstring)."""
    threads, backend = spec.get("threads"), spec.get("backend")
    runs, warmup, sent_runs = spec["runs"], spec["warmup"], spec["sentence_runs"]
    t0 = time.perf_counter_ns()
    tr = Translator(path, num_threads=threads, backend=backend)
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    steps = spec.get("steps") or tr.max_target_len
    rows = [encode_source(tr.source_tokenizer, t, tr.source_len, tr.add_bos, tr.add_eos)[0]
            for t in spec["texts"]]
    tokens, _ = tr.decoder.source_batch(rows)
    enc_feed, dec_feed = tr.decoder.first_feeds(tokens[:1])
    run = tr.session.run
    interp = bare_interpreter(tr.artifact.model_bytes, threads, backend)
    raw_enc = RawSignature(interp, C.ENCODE, enc_feed)
    raw_dec = RawSignature(interp, C.DECODE_STEP, dec_feed)
    interp_min = bare_interpreter(tr.artifact.model_bytes, threads, backend)
    raw_min = RawSignature(interp_min, C.DECODE_STEP, dec_feed, [C.DEC_TOKEN, *tr.states])
    interp_sent = bare_interpreter(tr.artifact.model_bytes, threads, backend)
    raw_sentence = RawSentence(interp_sent, tr, enc_feed, dec_feed, steps)
    it = iter(range(10**9))
    stats = interleaved({
        "encode_us": (lambda: run(C.ENCODE, enc_feed), runs),
        "decode_step_us": (lambda: run(C.DECODE_STEP, dec_feed), runs),
        "raw_encode_us": (raw_enc, runs), "raw_decode_step_us": (raw_dec, runs),
        "raw_min_step_us": (raw_min, runs), "raw_sentence_us": (raw_sentence, sent_runs),
        "sentence_us": (lambda: forced_greedy(tr, tokens[next(it) % len(tokens)][None], steps),
                        sent_runs),
        "long_sentence_us": (lambda: forced_greedy(tr, tokens[next(it) % len(tokens)][None],
                                                   LONG * steps), sent_runs)}, warmup)
    out: dict[str, Any] = {"load_ms": load_ms, "steps": steps, "source_len": tr.source_len,
                           "model_bytes": len(tr.artifact.model_bytes),
                           "encode_us": stats["encode_us"],
                           "decode_step_us": stats["decode_step_us"],
                           "sentence_us": stats["sentence_us"],
                           "long_steps": LONG * steps,
                           "long_sentence_us": stats["long_sentence_us"],
                           "floor": {"encode_us": stats["raw_encode_us"],
                                     "decode_step_us": stats["raw_decode_step_us"],
                                     "min_step_us": stats["raw_min_step_us"],
                                     "sentence_us": stats["raw_sentence_us"]}}
    out["tokens_per_s"] = steps / (out["sentence_us"]["p50"] / 1e6)
    out["translate"] = _real_translate(tr, spec["texts"], sent_runs)
    out["backend"] = tr.session.backend.describe()
    return out


def main(spec_file: str) -> None:
    spec = json.loads(open(spec_file, encoding="utf-8").read())
    result: dict[str, Any] = {"numpy": np.__version__, "python": sys.version.split()[0],
                              "modes": {}}
    for mode, path in spec["artifacts"].items():
        try:
            result["modes"][mode] = measure(path, spec)
        except (EdgeAttnError, RuntimeError, ValueError) as exc:
            result["modes"][mode] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
