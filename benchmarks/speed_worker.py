"""Decode speed on one artifact and backend, in its own process (no TensorFlow).

Run by :mod:`speed` with the main venv's python (ai-edge-litert) and ``.venv-rt``'s python
(tflite-runtime). Reads a JSON spec, prints one JSON document. All figures are whole
``Translator.translate()`` calls of one sentence at a forced length (``min_len = max_len``),
timed in interleaved blocks so a busy machine slows every competitor alike:

- greedy at L and 3·L tokens, full vocabulary and shortlist: the slope is the marginal cost
  of one decode step, the thing a shortlist makes cheaper;
- beam 4 at L tokens (full vocabulary and shortlist): beam ÷ greedy at equal length;
- the bare interpreter work of the same greedy sentence (:class:`rt_worker.RawSentence`:
  encode + L × (set token and state, invoke, read outputs), no tokenizer, no decoding logic)
  and the raw decode step (token and state set, invoke, outputs read), full vocabulary and
  shortlist.

With ``"texts_out"`` it also translates the test sources greedy and beam 4, with and without
the shortlist (texts for BLEU in the parent), and beam 4 the old way (the general batch
path of :mod:`edge_attn.runtime.beam` with a stable full sort per step): identity with the
bound loop and its partial selection.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rt_worker import RawSentence, RawSignature, bare_interpreter, interleaved  # noqa: E402

from edge_attn.runtime import beam as beam_mod  # noqa: E402
from edge_attn.runtime import constants as C  # noqa: E402
from edge_attn.runtime.model import encode_source  # noqa: E402
from edge_attn.runtime.translator import DEFAULT_LENGTH_PENALTY, Translator  # noqa: E402

LONG = 3
BEAM = 4
BLOCKS = 20  # alternating timing blocks (paired ratios: the median over them)
BEAM_RUNS = 3  # beam calls per block


def _timings(tr: Translator, text: str, steps: int, spec: dict[str, Any]) -> dict[str, Any]:
    runs, warmup = spec["sentence_runs"], spec["warmup"]
    has_sl = tr.has_shortlist

    def call(n: int, beam: int = 1, shortlist: bool = False):
        return lambda: tr.translate(text, beam=beam, min_len=n, max_len=n,
                                    shortlist=shortlist)

    # Beam in blocks of BEAM_RUNS calls: the first call after greedy re-sizes a step shared
    # with greedy (batch 1 -> K: one re-allocation, ~0.15 ms) — the steady state is the
    # block's fastest call, what a device decoding with a beam keeps paying.
    beam_runs = BEAM_RUNS * BLOCKS
    fns = {"greedy_us": (call(steps), runs), "greedy_long_us": (call(LONG * steps), runs),
           "beam_us": (call(steps, BEAM), beam_runs)}
    if has_sl:
        fns.update(greedy_sl_us=(call(steps, shortlist=True), runs),
                   greedy_sl_long_us=(call(LONG * steps, shortlist=True), runs),
                   beam_sl_us=(call(steps, BEAM, shortlist=True), beam_runs))
    ids = encode_source(tr.source_tokenizer, text, tr.source_len, tr.add_bos, tr.add_eos)[0]
    tokens, _ = tr.decoder.source_batch([ids])
    enc_feed, dec_feed = tr.decoder.first_feeds(tokens)
    threads, backend = spec.get("threads"), spec.get("backend")
    interp = bare_interpreter(tr.artifact.model_bytes, threads, backend)
    fns["raw_sentence_us"] = (RawSentence(interp, tr, enc_feed, dec_feed, steps), runs)
    interp2 = bare_interpreter(tr.artifact.model_bytes, threads, backend)
    fns["raw_step_us"] = (RawSignature(interp2, C.DECODE_STEP, dec_feed,
                                       [C.DEC_TOKEN, *tr.states]), runs * 4)
    if has_sl:
        cols, _, _ = tr.decoder.candidates([ids], tr.shortlist)
        sl_feed = dict(dec_feed, **tr.decoder.shortlist_feed(cols, tr.shortlist))
        interp3 = bare_interpreter(tr.artifact.model_bytes, threads, backend)
        fns["raw_step_sl_us"] = (RawSignature(interp3, C.DECODE_STEP_SHORTLIST, sl_feed,
                                              [C.DEC_TOKEN, *tr.states]), runs * 4)
    blocks: dict[str, list[float]] = {}
    out = interleaved(fns, warmup, BLOCKS, blocks)
    out["blocks"] = blocks
    return out


def _ratios(t: dict[str, Any], steps: int) -> dict[str, float]:
    """Step costs from the fastest calls of the whole run; the ratios of the shortlist
    step and of beam to greedy also paired within each block (the median over blocks, see
    :func:`rt_worker.interleaved`), which a machine whose load changes during the run
    distorts less."""
    def m(key: str) -> float:
        return t[key]["min"]

    def step(prefix: str) -> float:
        return (m(f"{prefix}_long_us") - m(f"{prefix}_us")) / ((LONG - 1) * steps)

    out = {"marginal_step_us": step("greedy"), "raw_step_us": m("raw_step_us"),
           "beam_over_greedy": m("beam_us") / m("greedy_us"),
           "sentence_over_raw": m("greedy_us") / m("raw_sentence_us")}
    out["marginal_over_raw_step"] = out["marginal_step_us"] / out["raw_step_us"]
    b = {k: np.asarray(v) for k, v in t["blocks"].items()}

    def paired(prefix: str) -> np.ndarray:
        return (b[f"{prefix}_long_us"] - b[f"{prefix}_us"]) / ((LONG - 1) * steps)

    out["beam_over_greedy_paired"] = float(np.median(b["beam_us"] / b["greedy_us"]))
    out["sentence_over_raw_paired"] = float(np.median(b["greedy_us"] / b["raw_sentence_us"]))
    out["marginal_over_raw_step_paired"] = float(np.median(paired("greedy")
                                                           / b["raw_step_us"]))
    if "greedy_sl_us" in t:
        out["marginal_step_sl_us"] = step("greedy_sl")
        out["shortlist_step_ratio"] = out["marginal_step_sl_us"] / out["marginal_step_us"]
        out["raw_step_sl_us"] = m("raw_step_sl_us")
        out["shortlist_raw_step_ratio"] = out["raw_step_sl_us"] / out["raw_step_us"]
        out["beam_sl_over_greedy_sl"] = m("beam_sl_us") / m("greedy_sl_us")
        out["greedy_sl_over_greedy"] = m("greedy_sl_us") / m("greedy_us")
        out["shortlist_step_ratio_paired"] = float(np.median(paired("greedy_sl")
                                                             / paired("greedy")))
        out["beam_sl_over_greedy_sl_paired"] = float(np.median(b["beam_sl_us"]
                                                               / b["greedy_sl_us"]))
    return out


def _texts(tr: Translator, sources: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    variants = [("greedy", 1, False), ("beam", BEAM, False)]
    if tr.has_shortlist:
        variants += [("greedy_sl", 1, True), ("beam_sl", BEAM, True)]
    for name, beam, sl in variants:
        t0 = time.perf_counter()
        res = tr.translate(sources, beam=beam, shortlist=sl, batch_size=1)
        out[name] = [r.text for r in res]
        out[f"{name}_seconds"] = time.perf_counter() - t0
    lists = [None, tr.shortlist] if tr.has_shortlist else [None]
    for sl in lists:
        suffix = "" if sl is None else "_sl"
        new_ids = [r.ids for r in tr.translate(sources, beam=BEAM, shortlist=sl is not None,
                                               batch_size=1)]
        # The old implementation: the general batch path with a stable full sort per step.
        partial = beam_mod.top_candidates
        beam_mod.top_candidates = lambda cand, k: np.argsort(-cand, axis=1,
                                                             kind="stable")[:, :k]
        try:
            old_ids = [tr.decoder.decode([encode_source(tr.source_tokenizer, s, tr.source_len,
                                                        tr.add_bos, tr.add_eos)[0]],
                                         BEAM, None, DEFAULT_LENGTH_PENALTY, lean=False,
                                         shortlist=sl)[0].ids
                       for s in sources]
        finally:
            beam_mod.top_candidates = partial
        out[f"beam{suffix}_identical_to_full_sort"] = sum(a == b for a, b in
                                                          zip(new_ids, old_ids))
        out[f"beam{suffix}_compared"] = len(new_ids)
    return out


def main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    tr = Translator(spec["artifact"], num_threads=spec.get("threads"),
                    backend=spec.get("backend"))
    steps = spec["steps"]
    res: dict[str, Any] = {"backend": tr.backend_name, "numpy": np.__version__,
                           "model_bytes": len(tr.artifact.model_bytes), "steps": steps,
                           "shortlist": tr.shortlist_info()}
    t = _timings(tr, spec["text"], steps, spec)
    res["timings"] = t
    res["ratios"] = _ratios(t, steps)
    if spec.get("sources"):
        res["texts"] = _texts(tr, spec["sources"])
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1])
