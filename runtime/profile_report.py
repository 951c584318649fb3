"""The side-by-side table of :func:`~edge_attn.runtime.profile.profile_model` results:
ratios to the first model, notes on reference-kernel modes, beam/shortlist variants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import constants as C

# Modes whose kernels are TFLite's portable reference implementations (no optimized or
# XNNPACK kernels exist for them), with the measured slowdown against int8 on the same
# model: int16x8 decode step 1,218 µs vs int8 62 µs on the 6.9M eng-fra model of issue 13
# (ai-edge-litert 2.3, x86-64, one thread).
REFERENCE_KERNEL_SLOWDOWN = {"int16x8": 20}


def speed_note(mode: str) -> str | None:
    """A warning line for a mode that runs on reference kernels, else None."""
    factor = REFERENCE_KERNEL_SLOWDOWN.get(str(getattr(mode, "value", mode)))
    if factor is None:
        return None
    return (f"runs on reference kernels: expect ~{factor}× slower than int8 on the same "
            "model")



def primary_latency_us(result: dict[str, Any]) -> float | None:
    """The figure models are ranked by: greedy sentence p50 (seq2seq), classify p50."""
    if result.get("sentence"):
        return result["sentence"]["latency_us"]["p50"]
    cls = result.get("latency_us", {}).get(C.CLASSIFY)
    return cls["p50"] if cls else None


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return value / base


def compare(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per result with ratios to the first (latency of the same kind, size).

    Latency ratio > 1 means slower than the first model; it is ``None`` when the first
    model is of another kind. The first row's ratios are 1.0.
    """
    if not results:
        return []
    base = results[0]
    rows = []
    for r in results:
        same = r["kind"] == base["kind"]
        row = {"name": r["name"], "path": r["path"], "kind": r["kind"],
               "quantization": r["quantization"], "file_bytes": r["file_bytes"],
               "size_ratio": _ratio(r["file_bytes"], base["file_bytes"]),
               "load_ms": r["load_ms"], "rss_delta_mb": r["rss_mb"]["delta"],
               "latency_us": primary_latency_us(r),
               "latency_ratio": (_ratio(primary_latency_us(r), primary_latency_us(base))
                                 if same else None),
               "tokens_per_s": (r["sentence"] or {}).get("tokens_per_s"),
               "sentence_like": bool(r["sentence"]), "signatures": {},
               "variants": {k: {"p50_us": v["latency_us"]["p50"], "vs_greedy": v["vs_greedy"]}
                            for k, v in (r.get("variants") or {}).items()}}
        for sig, stats in r["latency_us"].items():
            other = base["latency_us"].get(sig)
            row["signatures"][sig] = {"p50": stats["p50"], "p90": stats["p90"],
                                      "p99": stats["p99"],
                                      "ratio": _ratio(stats["p50"], other and other["p50"])}
        rows.append(row)
    _reference_ratios(rows)
    return rows


def _reference_ratios(rows: list[dict[str, Any]]) -> None:
    """Add ``speed_note`` to rows of reference-kernel modes and, when an int8 model of the
    same kind was profiled too, ``vs_int8`` (measured latency ratio to the first one)."""
    int8 = {}
    for row in rows:
        if row["quantization"] == "int8" and row["latency_us"]:
            int8.setdefault(row["kind"], row)
    for row in rows:
        note = speed_note(row["quantization"])
        if note is None:
            continue
        row["speed_note"] = note
        base = int8.get(row["kind"])
        if base is not None:
            step, base_step = (r["signatures"].get(C.DECODE_STEP) for r in (row, base))
            row["vs_int8"] = {"name": base["name"],
                              "ratio": _ratio(row["latency_us"], base["latency_us"]),
                              "step_ratio": _ratio(step and step["p50"],
                                                   base_step and base_step["p50"])}


def _fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def render_table(results: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text side-by-side table of :func:`compare` rows, with a context header."""
    if not results:
        return ""
    first = results[0]
    m = first["machine"]
    head = (f"{m['cpu']} ({m['machine']}, {m['cores']} cores), python {m['python']}, "
            f"backend {first['backend']['name']} {first['backend']['version']}, threads "
            f"{first['threads'] or 'default'}, batch {first['batch']}, runs {first['runs']}")
    cols = ["model", "kind", "quant", "size KB", "size×", "load ms", "RSS Δ MB", "encode µs",
            "step µs", "classify µs", "sentence ms", "latency×", "tok/s"]
    table = [cols]
    for r in rows:
        sig = r["signatures"]
        table.append([
            r["name"], r["kind"], r["quantization"], _fmt(r["file_bytes"] / 1024),
            _fmt(r["size_ratio"], ".2f"), _fmt(r["load_ms"]), _fmt(r["rss_delta_mb"]),
            *(_fmt(sig[s]["p50"]) if s in sig else "-"
              for s in (C.ENCODE, C.DECODE_STEP, C.CLASSIFY)),
            _fmt(r["latency_us"] / 1e3, ".2f") if r["sentence_like"] else "-",
            _fmt(r["latency_ratio"], ".2f"), _fmt(r["tokens_per_s"], ".0f")])
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = [head, "latencies are p50; × = ratio to the first model"]
    init = next((r["first_use"] for r in results if r.get("first_use")), None)
    if init:
        lines.append(f"not counted above: backend import + first load in this process "
                     f"{_fmt(init['import_and_first_load_ms'])} ms, "
                     f"{_fmt(init['rss_mb'], '+.1f')} MB")
    lines.append("")
    for n, row in enumerate(table):
        lines.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if any(r.get("variants") or r.get("speed_note") for r in rows):
        lines.append("")
    for r in rows:
        if r.get("variants"):
            shown = ", ".join(f"{k} {_fmt(v['p50_us'] / 1e3, '.2f')} ms "
                              f"({_fmt(v['vs_greedy'], '.2f')}× greedy)"
                              for k, v in r["variants"].items())
            lines.append(f"{r['name']}: same sentence with {shown}")
    for r in rows:
        if r.get("speed_note"):
            measured = r.get("vs_int8")
            tail = ""
            if measured:
                step = measured["step_ratio"]
                tail = (f"; measured here: {_fmt(measured['ratio'], '.1f')}× the latency of "
                        f"{measured['name']} (int8)"
                        + (f", decode step {_fmt(step, '.1f')}×" if step else ""))
            lines.append(f"note: {r['name']} ({r['quantization']}) {r['speed_note']}{tail}")
    return "\n".join(lines)
