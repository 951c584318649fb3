"""Greedy latency side by side: Keras under TensorFlow vs the runtime per mode and backend.

Each competitor runs in its own fresh process on the same checkpoint / its artifacts, one
after another (never concurrently): ``tf_worker.py`` (TensorFlow eager, tf.function) and
``rt_worker.py`` under the main venv (ai-edge-litert) and under ``.venv-rt`` (tflite-runtime,
numpy<2, no TensorFlow). Every sentence decodes exactly ``max_target_len`` steps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from common import BENCH, MAIN_PY, child_env, last_json, rt_python, run_measured, write_json

LITERT, TFLITE_RUNTIME = "ai-edge-litert", "tflite-runtime"


def tensorflow(ckpt: Path, runs: int, threads: int) -> dict[str, Any]:
    """Keras greedy per sentence: eager, tf.function step loop, tf.function whole loop."""
    res = run_measured([str(MAIN_PY), str(BENCH / "tf_worker.py"), str(ckpt), str(runs),
                        str(threads)])
    if res["returncode"] != 0:
        return {"error": res["stderr"][-500:]}
    return last_json(res["stdout"])


def runtime(artifacts: dict[str, Path], texts: list[str], backend: str, threads: int,
            runs: int, sentence_runs: int) -> dict[str, Any]:
    """The runtime on one backend for every artifact, in a fresh process.

    Returns ``{"status": "ok"|"absent"|"error", "python": ..., "modes": {...}}``.
    """
    python = MAIN_PY if backend == LITERT else rt_python()
    if python is None:
        return {"status": "absent",
                "note": "no .venv-rt (make creates it): tflite-runtime not measured"}
    spec = {"artifacts": {m: str(p) for m, p in artifacts.items()}, "backend": backend,
            "threads": threads, "texts": texts, "runs": runs,
            "warmup": max(5, runs // 10), "sentence_runs": sentence_runs}
    with tempfile.TemporaryDirectory(prefix="edge-attn-bench-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        write_json(spec_file, spec)
        res = run_measured([str(python), str(BENCH / "rt_worker.py"), str(spec_file)],
                           env=child_env(EDGE_ATTN_BACKEND=backend))
    if res["returncode"] != 0:
        return {"status": "error", "python": str(python), "error": res["stderr"][-500:]}
    out = last_json(res["stdout"])
    return {"status": "ok", "python": str(python), **out}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def speedups(tf: dict[str, Any], rt: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per backend and mode: runtime sentence p50 and its speed-up over each TF variant."""
    rows = []
    tf_p50 = {k: (tf.get(k) or {}).get("p50") for k in
              ("eager", "tf_function_step", "tf_function_loop")}
    for backend, res in rt.items():
        for mode, m in (res.get("modes") or {}).items():
            if "error" in m:
                rows.append({"backend": backend, "mode": mode, "error": m["error"]})
                continue
            p50 = m["sentence_us"]["p50"]
            rows.append({"backend": backend, "mode": mode, "sentence_us": p50,
                         "per_step_us": p50 / m["steps"], "tokens_per_s": m["tokens_per_s"],
                         **{f"speedup_vs_{k}": _ratio(v, p50) for k, v in tf_p50.items()}})
    return rows


def floor(rt_mode: dict[str, Any]) -> dict[str, Any]:
    """Runtime cost vs the raw interpreter invoke floor, several ways (batch 1).

    * ``headline`` (the target, per decode step): the runtime's marginal cost of one more
      greedy step — (long sentence − short sentence) ÷ extra steps, through the path
      ``translate()`` takes — ÷ one raw step that sets only what a step changes;
    * ``sentence``: the whole short sentence (encode, binding, result included) ÷ the same
      sentence's interpreter work on a bare interpreter (``RawSentence``: encode, static
      inputs once, steps × raw step), run the same way;
    * ``all_inputs``: the marginal step ÷ a raw step that sets every input;
    * ``step``: one ``Session.run(decode_step)`` (general path, every input) ÷ raw step;
    * ``translate``: real ``translate()`` (tokenize, stop at ``<eos>``) per step ÷ raw step.

    Each ratio is computed from the minimum of its interleaved timings (timing noise on a
    shared machine only adds, so the minimum estimates the intrinsic cost; the timeit
    convention) and, as ``*_p50``, from the medians.
    """
    if not rt_mode or "error" in rt_mode:
        return {"error": (rt_mode or {}).get("error", "not measured")}
    out: dict[str, Any] = {"steps": rt_mode["steps"], "long_steps": rt_mode["long_steps"]}
    for stat, suffix in (("min", ""), ("p50", "_p50")):
        out.update({k + suffix: v for k, v in _ratios(rt_mode, stat).items()})
    return out


def _ratios(m: dict[str, Any], stat: str) -> dict[str, float]:
    fl = m["floor"]
    raw_step, raw_min = fl["decode_step_us"][stat], fl["min_step_us"][stat]
    sent, long = m["sentence_us"][stat], m["long_sentence_us"][stat]
    per_step = (long - sent) / (m["long_steps"] - m["steps"])
    return {
        "raw_decode_step_us": raw_step, "raw_min_step_us": raw_min,
        "raw_encode_us": fl["encode_us"][stat], "raw_sentence_us": fl["sentence_us"][stat],
        "runtime_sentence_us": sent, "runtime_long_sentence_us": long,
        "runtime_per_step_us": per_step,
        "headline_ratio": per_step / raw_min,
        "sentence_ratio": sent / fl["sentence_us"][stat],
        "all_inputs_ratio": per_step / raw_step,
        "runtime_session_step_us": m["decode_step_us"][stat],
        "step_ratio": m["decode_step_us"][stat] / raw_step,
        "translate_per_step_us": m["translate"]["per_step_us"],
        "translate_ratio": m["translate"]["per_step_us"] / raw_step,
    }
