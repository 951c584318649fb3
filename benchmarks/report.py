"""Targets (from DESIGN.md) and the markdown report of one benchmark run."""

from __future__ import annotations

from typing import Any

TARGETS = {
    "step_floor": ("runtime int8 decode step ÷ raw invoke floor (marginal step)", "≤ 1.15", 1.15,
                   "max"),
    "speedup_eager": ("int8 runtime greedy speed-up vs TF eager", "≥ 25×", 25.0, "min"),
    "speedup_function": ("int8 runtime greedy speed-up vs TF tf.function step loop",
                         "≥ 25×", 25.0, "min"),
    "size": ("int8 model bytes ÷ float32 (dates benchmark model)", "≤ 0.30", 0.30, "max"),
    "size_eng_fra": ("int8 model bytes ÷ float32 (eng-fra model)", "≤ 0.30", 0.30, "max"),
    "cold": ("cold start, runtime-only install (in-process median)", "≤ 0.5 s", 0.5, "max"),
    "rss": ("peak RSS of `edge-attn translate` (runtime-only venv)", "≤ 100 MB", 100.0, "max"),
    "keras_fp32": ("float32 TFLite output == Keras (share of test sentences)", "= 1.0", 1.0,
                   "min"),
    "bleu": ("int8 BLEU − float32 BLEU, eng-fra test split", "≥ −1.0", -1.0, "min"),
}


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def _litert_int8(r: dict[str, Any]) -> dict[str, Any] | None:
    for row in _get(r, "latency", "speedups") or []:
        if row["backend"] == "ai-edge-litert" and row["mode"] == "int8" and "error" not in row:
            return row
    return None


def target_figures(r: dict[str, Any]) -> dict[str, Any]:
    """The figure measured for each target (None when not measured in this run)."""
    row = _litert_int8(r) or {}
    size = {}
    for name in ("dates", "eng_fra"):
        int8 = _get(r, "models", name, "exports", "int8", "bytes")
        fp32 = _get(r, "models", name, "exports", "float32", "bytes")
        size[name] = int8 / fp32 if int8 and fp32 else None
    bleu = _get(r, "fidelity", "eng_fra", "modes", "int8", "delta_bleu")
    keras = (_get(r, "fidelity", "eng_fra", "modes", "float32", "same_text_as_keras")
             if bleu is not None else
             _get(r, "fidelity", "dates", "modes", "float32", "same_text_as_keras"))
    return {"step_floor": _get(r, "latency", "floor", "ai-edge-litert", "headline_ratio"),
            "speedup_eager": row.get("speedup_vs_eager"),
            "speedup_function": row.get("speedup_vs_tf_function_step"),
            "size": size["dates"], "size_eng_fra": size["eng_fra"],
            "cold": _get(r, "coldstart", "runtime_rt_venv", "in_process_s"),
            "rss": _get(r, "memory", "cli_rt_venv", "peak_rss_mb"),
            "keras_fp32": keras, "bleu": bleu}


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its figure and status (met / missed / not measured)."""
    out = []
    for key, value in target_figures(r).items():
        label, goal, limit, kind = TARGETS[key]
        if value is None:
            status = "not measured"
        else:
            status = "met" if (value <= limit if kind == "max" else value >= limit) else "MISSED"
        out.append({"key": key, "target": label, "goal": goal, "value": value,
                    "status": status})
    return out


def f(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:{spec}}{suffix}"


def table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(f(c) if not isinstance(c, str) else c for c in row) + " |"
              for row in rows]
    return "\n".join(lines)


def context(r: dict[str, Any]) -> str:
    m = r["machine"]
    rt = m.get("rt_venv") or {}
    load = m.get("load_average_at_start")
    return (f"*{m['cpu']} ({m['machine']}, {m['cores']} cores"
            + (f", load average {load[0]:.1f} at start" if load else "")
            + f"), {m['threads_used']} "
            f"interpreter/TF thread(s); python {m['python']}, numpy "
            f"{m['main_venv']['numpy']}, TensorFlow {m['main_venv']['tensorflow']}, "
            f"ai-edge-litert {m['main_venv']['ai-edge-litert']}; .venv-rt: "
            + (f"tflite-runtime {rt.get('tflite-runtime')}, numpy {rt.get('numpy')}*"
               if rt.get("tflite-runtime") else "absent*"))


def render(r: dict[str, Any]) -> str:
    """The whole markdown report."""
    from report_sections import sections

    parts = [f"# edge-attn benchmarks ({r['variant']})", "", context(r), "",
             "## Targets (DESIGN.md)", "",
             table(["target", "goal", "measured", "status"],
                   [[t["target"], t["goal"], f(t["value"], ".3g"), t["status"]]
                    for t in r["targets"]]), ""]
    for title, body in sections(r):
        parts += [f"## {title}", "", context(r), "", body, ""]
    parts.append(f"Total run time {r['seconds']:.0f} s; sections: "
                 + ", ".join(f"{k} {v:.0f} s" for k, v in r["timings"].items()) + ".")
    return "\n".join(parts) + "\n"
