"""The markdown sections of the report, one small function per measurement."""

from __future__ import annotations

from typing import Any

from report import _get, f, table


def _model_line(m: dict[str, Any]) -> str:
    hp = m.get("hp") or {}
    return (f"Model **{m['name']}**: {m['kind']} "
            + (f"({hp.get('cell')}, {hp.get('attention')} attention, units {hp.get('units')}, "
               f"S={hp.get('max_source_len')}, T={hp.get('max_target_len')}) "
               if hp.get("cell") else "")
            + f"{m['params']:,} params, data {m['data']}, train {m['sizes']}, "
            f"{m['epochs_run']} epochs in {f(m['seconds'], '.0f')} s"
            + (" (cached)" if m.get("cached") else ""))


def sizes(r: dict[str, Any]) -> str:
    lines = []
    for m in r["models"].values():
        base = m["exports"].get("float32", {}).get("bytes")
        rows = []
        for mode, e in m["exports"].items():
            if e.get("error"):
                rows.append([mode, *["–"] * 6, "export failed: " + e["error"][:160]])
                continue
            val = e.get("validation") or {}
            status = ("skipped" if val.get("skipped") else "passed" if val.get("passed")
                      else "FAILED: " + str(val.get("error", ""))[:80])
            b = (m.get("breakdown") or {}).get(mode) or {}
            rows.append([mode, f"{e['bytes']:,}", f"{e['file_bytes']:,}",
                         f(e["bytes"] / base if base else None),
                         f"{b['weight_bytes']:,}" if b else "–", f(b.get("weight_ratio")),
                         f"{b['structure_bytes']:,}" if b else "–", status])
        lines += [_model_line(m), "", table(["quantization", "model bytes", "file bytes",
                                             "× float32", "weight bytes", "weights × float32",
                                             "graph structure bytes", "export validation"],
                                            rows), ""]
    return "\n".join(lines)


def latency(r: dict[str, Any]) -> str:
    lat = r["latency"]
    tf, steps = lat["tensorflow"], lat.get("steps")
    m = r["models"]["dates"]
    head = ["competitor", "backend", "quantization", "model bytes", "sentence p50 ms",
            "per step µs", "tokens/s", "× vs TF eager", "× vs tf.function step",
            "× vs tf.function loop"]
    rows = []
    eager = _get(tf, "eager", "p50")
    fstep = _get(tf, "tf_function_step", "p50")
    loop = _get(tf, "tf_function_loop", "p50")
    for key, label in (("eager", "Keras eager (encode/step Python loop)"),
                       ("tf_function_step", "Keras tf.function step, Python loop"),
                       ("tf_function_loop", "Keras tf.function whole loop")):
        p50 = _get(tf, key, "p50")
        rows.append([label, f"TF {tf.get('tensorflow', '?')}", "float32 (Keras)",
                     f"{m['params'] * 4:,} (params×4)", f(p50 and p50 / 1e3),
                     f(p50 and steps and p50 / steps, ".0f"),
                     f(p50 and steps and steps / p50 * 1e6, ".0f"),
                     f(eager / p50 if p50 and eager else None),
                     f(fstep / p50 if p50 and fstep else None),
                     f(loop / p50 if p50 and loop else None)])
    for row in lat["speedups"]:
        if "error" in row:
            rows.append(["edge-attn runtime", row["backend"], row["mode"], "–",
                         "error: " + row["error"][:60], "", "", "", "", ""])
            continue
        rows.append(["edge-attn runtime", row["backend"], row["mode"],
                     f"{m['exports'][row['mode']]['bytes']:,}",
                     f(row["sentence_us"] / 1e3, ".3f"), f(row["per_step_us"], ".1f"),
                     f(row["tokens_per_s"], ".0f"), f(row["speedup_vs_eager"], ".1f"),
                     f(row["speedup_vs_tf_function_step"], ".1f"),
                     f(row["speedup_vs_tf_function_loop"], ".1f")])
    absent = [f"{b}: {v.get('note') or v.get('error', '')[:120]}"
              for b, v in lat["runtime"].items() if v.get("status") != "ok"]
    note = (f"Batch 1, every sentence decodes exactly {steps} steps (the Keras loop never "
            "stops early; the runtime suppresses `<eos>`), real test-split sources, "
            f"{tf.get('runs')} TF / {lat['sentence_runs']} runtime sentences. "
            "TF compiled outputs agree with the step loop: "
            f"{tf.get('compiled_outputs_agree')}. The targets compare with what a user would "
            "otherwise run on the device (eager, and a tf.function step in a Python loop); "
            "the whole greedy loop compiled into one tf.function (no per-step Python, no "
            "attention rows returned per step) is shown as a stronger reference, no target.")
    return "\n".join([note, "", table(head, rows)] + (["", "Not measured: " + "; ".join(
        absent)] if absent else []))


def floor(r: dict[str, Any]) -> str:
    rows = []
    for backend, fl in r["latency"]["floor"].items():
        if "error" in fl:
            rows.append([backend, "error: " + fl["error"][:80]] + [""] * 10)
            continue
        rows.append([backend, f(fl["runtime_per_step_us"], ".1f"), f(fl["raw_min_step_us"], ".1f"),
                     f(fl["headline_ratio"]), f(fl["headline_ratio_p50"]),
                     f(fl["all_inputs_ratio"]), f(fl["runtime_sentence_us"], ".1f"),
                     f(fl["raw_sentence_us"], ".1f"), f(fl["sentence_ratio"]),
                     f(fl["sentence_ratio_p50"]), f(fl["step_ratio"])])
    head = ["backend", "runtime µs per extra step", "raw step µs (token+state)",
            "step ratio (target)", "step ratio, medians", "step ÷ raw all-inputs step",
            "runtime sentence µs", "raw sentence µs", "sentence ratio",
            "sentence ratio, medians", "Session.run ÷ raw step"]
    return ("int8 model, batch 1. Raw floor = set inputs, invoke, read every output "
            "(`GetTensor` copies) of the signature's subgraph on a bare interpreter, no "
            "decoding logic; per step either only the inputs a step changes (token, state — "
            "the least any decode loop does; the target's floor) or every input. Runtime = "
            "the path `translate()` takes for one sentence (runtime/fast_greedy.py: memory, "
            "keys, mask set once per sentence), tokenization excluded, forced to a fixed "
            "number of steps; its per-step cost is the slope between a short and a 4× longer "
            "sentence, so encode and per-sentence set-up are not spread over the steps. The "
            "sentence ratio divides a whole sentence by the same sentence's interpreter work "
            "alone on a bare interpreter (encode, static inputs once, the raw steps). "
            "`Session.run` is the general per-call path (beam, hard/monotonic attention, "
            "batches). All timed interleaved in one process; µs and ratios from the minimum "
            "of each timing (noise on a shared machine only adds), with the ratios from the "
            "medians next to them.\n\n" + table(head, rows))


def _fallback(v: dict[str, Any]) -> str:
    failed = v.get("failed_modes") or {}
    return "; ".join(f"{m} failed ({e.strip()[-90:]})" for m, e in failed.items())


def coldstart(r: dict[str, Any]) -> str:
    c = r["coldstart"]
    rows, notes = [], []
    for key, label in (("runtime_rt_venv", "runtime only (.venv-rt, no TF installed)"),
                       ("runtime_main_venv", "runtime (main venv, TF installed, not imported)"),
                       ("tensorflow", "TensorFlow + Keras checkpoint")):
        v = c[key]
        if v.get("status") != "ok":
            rows.append([label, v.get("status", "") + " " + str(v.get("note") or
                                                                v.get("error", ""))[:160]]
                        + [""] * 8)
            continue
        if _fallback(v):
            notes.append(f"{label}: {_fallback(v)}; measured with {v['quantization']}.")
        rows.append([label, v["backend"], v.get("quantization", "float32 (Keras)"),
                     f(v["import_s"], ".3f"), f(v["load_s"], ".3f"), f(v["first_s"], ".3f"),
                     f(v["in_process_s"], ".3f"), f(v["wall_s"], ".3f"),
                     f(v["peak_rss_mb"], ".0f"), str(v["runs"])])
    head = ["process", "backend", "quantization", "import s", "load s", "first translation s",
            "in-process s", "process wall s", "peak RSS MB", "runs (median)"]
    return (f"Dates model, input \"{c['text']}\", {c['threads']} thread(s). In-process = "
            "from the child's first line to the first translation; process wall adds "
            "interpreter start-up and exit.\n\n" + table(head, rows)
            + ("\n\n" + "\n".join(notes) if notes else ""))


def memory(r: dict[str, Any]) -> str:
    mem = r["memory"]
    rows, notes = [], []
    for key, label in (("cli_rt_venv", "`edge-attn translate` (.venv-rt, tflite-runtime)"),
                       ("cli_main_venv", "`edge-attn translate` (main venv, ai-edge-litert)"),
                       ("tensorflow", "TF process: import + load checkpoint + greedy")):
        v = mem[key]
        if _fallback(v):
            notes.append(f"{label}: {_fallback(v)}; measured with {v['quantization']}.")
        rows.append([label, v.get("quantization", "float32 (Keras)"),
                     f(v.get("peak_rss_mb"), ".1f"), f(v.get("wall_s"), ".2f"),
                     v.get("status", "") + (" " + str(v.get("error") or v.get("note") or "")
                                            [:160] if v.get("status") != "ok" else "")])
    return ("Peak RSS of each child from `os.wait4`, spawned by a minimal launcher (a process "
            "forked from a large parent would report the parent's RSS; the launcher's ~9 MB "
            "is the floor).\n\n"
            + table(["process", "quantization", "peak RSS MB", "wall s", "status"], rows)
            + ("\n\n" + "\n".join(notes) if notes else ""))


def fidelity(r: dict[str, Any]) -> str:
    parts = []
    fid = r["fidelity"]
    for name, res in fid.items():
        if name == "note":
            continue
        if "bleu" in next(iter(res["modes"].values()), {}):
            head = ["quantization", "BLEU", "Δ vs float32", "BLEU (normalized refs)",
                    "exact", "same ids as float32", "same text as Keras"]
            rows = [[m, f(v["bleu"]), f(v.get("delta_bleu"), "+.2f"), f(v["bleu_norm"]),
                     f(v["exact"]), f(v.get("same_ids_as_float32")),
                     f(v.get("same_text_as_keras"))] for m, v in res["modes"].items()]
            if "keras" in res:
                k = res["keras"]
                rows.append(["Keras (TF)", f(k["bleu"]), "", f(k["bleu_norm"]), f(k["exact"]),
                             "", ""])
            parts += [f"**{name}** — {res['sentences']} held-out test sentences, sacrebleu "
                      "corpus BLEU of the runtime's detokenized greedy output.", "",
                      table(head, rows), ""]
        else:
            rows = [[m, f(v["accuracy"], ".4f"), f(v.get("delta_accuracy"), "+.4f"),
                     f(v["f1"], ".4f"), f(v.get("delta_f1"), "+.4f")]
                    for m, v in res["modes"].items()]
            if "keras" in res:
                rows.append(["Keras (TF)", f(res["keras"]["accuracy"], ".4f"), "",
                             f(res["keras"]["f1"], ".4f"), ""])
            parts += [f"**{name}** — {res['examples']} held-out test messages, F1 of "
                      f"'{res['positive']}'.", "",
                      table(["quantization", "accuracy", "Δ", "F1", "Δ F1"], rows), ""]
    if fid.get("note"):
        parts.append(fid["note"])
    return "\n".join(parts)


def sections(r: dict[str, Any]) -> list[tuple[str, str]]:
    return [("Model size per quantization mode", sizes(r)),
            ("Greedy latency per sentence, side by side", latency(r)),
            ("Runtime per-step cost vs the raw interpreter floor", floor(r)),
            ("Cold start (fresh process)", coldstart(r)),
            ("Peak memory", memory(r)),
            ("Fidelity per quantization mode", fidelity(r))]
