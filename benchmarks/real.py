"""Real-data models: quality per quantization mode and decode speed, side by side in one run.

``python benchmarks/real.py --out build/bench [--quick]`` (also a section of ``make bench``).
Needs ``../shared/data/eng-fra.tsv``; says so and stops when it is absent.

1. Models (cached in --out): the real eng-fra translator of :mod:`real_model` (cased
   SentencePiece, biGRU 256, ≥ 100k training pairs) and a small real-data model (the
   ``edge-attn train`` defaults on 20k pairs of the same data).
2. Artifacts: every quantization mode of the real model with the default validation gate,
   a vocabulary shortlist learned from the training split; float32 and int8 of the small one.
3. Quality: cased corpus BLEU and chrF (sacrebleu defaults) of each artifact's greedy output on
   the test split, next to the Keras model's; with and without the shortlist, greedy and beam.
4. Speed (:mod:`speed_worker`, fresh processes, 1 thread): marginal decode step with and
   without the shortlist, beam 4 vs greedy at equal forced length, whole sentence vs bare
   interpreter work, ai-edge-litert vs tflite-runtime on the same artifact. The rows the
   speed targets name run in ``REPEATS`` fresh processes (median and range of the ratios).
5. The issue's optional levers (:mod:`graph_state`, float32, both models): decoder state in
   resource variables and an in-graph greedy loop, against the stateless step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import graph_state  # noqa: E402
import real_model  # noqa: E402
import trained  # noqa: E402
from common import (  # noqa: E402
    BENCH,
    DATA,
    DATA_LABEL,
    MAIN_PY,
    MODES,
    child_env,
    last_json,
    rt_python,
    run_measured,
    write_json,
)

SMALL = dict(kind="seq2seq", epochs=12, patience=2)  # the train defaults otherwise
# 2: trained with the learning-rate warmup (revision 1 sat at the word-frequency loss and
# stopped after 3 epochs, decoding <eos> first for every sentence)
SMALL_FIT_REVISION = 2
IDENTITY_SENTENCES = 200  # test sentences beam-decoded both ways (new loop, old full sort)
# Variants of the real model beyond the plain modes: name → (mode, export options, shortlist).
VARIANTS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "int8-unrolled": ("int8", {"encoder_loop": "unrolled"}, True),
    "int8-keep-attention": ("int8", {"keep_float": "attention"}, True),
    "int8-unrolled-keep-attention": ("int8", {"encoder_loop": "unrolled",
                                              "keep_float": "attention"}, True),
    "int8-sl256": ("int8", {"shortlist_size": [256, 24]}, True),  # the earlier default
    "int8-weights": ("int8-weights", {}, False),
    "int4-weights": ("int4-weights", {}, False),
}
QUICK_VARIANTS = ("int8-unrolled",)
SMALL_PAIRS = 20_000
STEPS = 15  # forced sentence length of the speed figures
# The rows the speed targets name, measured in REPEATS fresh processes (ai-edge-litert): one
# process's ratios move by up to ~0.05 with where its buffers land (the int8 shortlist ratio
# read 0.43-0.49 in full runs, 0.40-0.42 alone), so these report the median and the range.
REPEATED = ("real-float32", "real-int8", "small-float32", "small-int8")
REPEATS = 3


def train_split_tsv(out: Path, tsv: Path, seed: int = 0) -> Path:
    """The training split of ``tsv`` (the split training used), for learning a shortlist."""
    from edge_attn.data.split import split_list
    from edge_attn.data.tsv import read_pairs

    dest = out / f"{tsv.stem}-train.tsv"
    if not dest.is_file():
        train, _, _ = split_list(read_pairs(str(tsv)), seed)
        tmp = dest.with_suffix(".tmp")
        tmp.write_text("".join(f"{s}\t{t}\n" for s, t in train), encoding="utf-8")
        tmp.replace(dest)
    return dest


def export_modes(ckpt: Path, out: Path, stem: str, modes: tuple[str, ...],
                 shortlist: Path | None) -> dict[str, dict[str, Any]]:
    """Export (cached) every mode with the validation gate; a failed gate is recorded."""
    return {m: trained.export_cached(ckpt, out / f"{stem}-{m}.eatt", m, True,
                                     shortlist_data=(str(shortlist) if shortlist
                                                     and m != "int16x8" else None))
            for m in modes}


def quality(ckpt: Path, artifacts: dict[str, str], limit: int) -> dict[str, Any]:
    """Cased BLEU / chrF of Keras and every artifact on the test split (greedy; the int8
    and float32 artifacts also with beam 4 and with / without the shortlist)."""
    import sacrebleu

    from edge_attn.runtime import Translator

    rows = json.loads((ckpt / "heldout.json").read_text(encoding="utf-8"))["test"][:limit]
    sources, refs = [r[0] for r in rows], [r[1] for r in rows]

    def score(hyps: list[str]) -> dict[str, float]:
        return {"bleu": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2),
                "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)}

    out: dict[str, Any] = {"sentences": len(rows), "keras": score(_keras(ckpt, sources))}
    for mode, path in artifacts.items():
        tr = Translator(path, num_threads=1, backend="ai-edge-litert")
        res = {"greedy": score([t.text for t in tr.translate(sources, shortlist=False)])}
        if tr.has_shortlist:
            res["greedy_shortlist"] = score([t.text for t in tr.translate(sources)])
        if mode in ("float32", "int8", "int8-unrolled"):
            res["beam4"] = score([t.text for t in tr.translate(sources, beam=4,
                                                                shortlist=False)])
            if tr.has_shortlist:
                res["beam4_shortlist"] = score([t.text for t in tr.translate(sources, beam=4)])
        out[mode] = res
    out["examples"] = [{"source": s, "reference": r} for s, r in zip(sources[:5], refs[:5])]
    out["sources"] = sources
    if "int8" in artifacts:
        tr = Translator(artifacts["int8"], num_threads=1)
        for ex, t in zip(out["examples"], tr.translate(sources[:5])):
            ex["int8"] = t.text
    return out


def _keras(ckpt: Path, sources: list[str]) -> list[str]:
    from edge_attn.data.prepare import pad
    from edge_attn.models.greedy import keras_greedy
    from edge_attn.training.checkpoint import load_checkpoint

    ck = load_checkpoint(ckpt)
    src, tgt = ck.tokenizers["source"], ck.tokenizers["target"]
    s_len = ck.config["max_source_len"]
    ids, _ = keras_greedy(ck.model, pad([src.encode(t, add_eos=False, max_len=s_len)
                                         for t in sources], s_len))
    return [tgt.decode(row) for row in ids]


def speed(artifact: str, text: str, backend: str, runs: int,
          sources: list[str] | None = None) -> dict[str, Any]:
    """:mod:`speed_worker` on one artifact and backend, in a fresh process."""
    python = MAIN_PY if backend == "ai-edge-litert" else rt_python()
    if python is None:
        return {"status": "absent", "note": "no .venv-rt: tflite-runtime not measured"}
    spec = {"artifact": artifact, "backend": backend, "threads": 1, "text": text,
            "steps": STEPS, "sentence_runs": runs, "warmup": 5, "sources": sources}
    with tempfile.TemporaryDirectory(prefix="edge-attn-bench-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        write_json(spec_file, spec)
        res = run_measured([str(python), str(BENCH / "speed_worker.py"), str(spec_file)],
                           env=child_env(EDGE_ATTN_BACKEND=backend), timeout=1800)
    if res["returncode"] != 0:
        return {"status": "error", "error": res["stderr"][-800:]}
    return {"status": "ok", **last_json(res["stdout"])}


def speed_repeated(artifact: str, text: str, backend: str, runs: int, repeats: int,
                   sources: list[str] | None = None) -> dict[str, Any]:
    """:func:`speed` in ``repeats`` fresh processes: the first run's figures, its ratios
    replaced by the median over the runs (``ratio_runs``: every run's)."""
    first = speed(artifact, text, backend, runs, sources)
    if repeats <= 1 or first.get("status") != "ok":
        return first
    done = [first] + [r for r in (speed(artifact, text, backend, runs)
                                  for _ in range(repeats - 1)) if r.get("status") == "ok"]
    first["ratio_runs"] = [r["ratios"] for r in done]
    first["ratios"] = {k: float(np.median([r["ratios"][k] for r in done]))
                       for k in first["ratios"] if all(k in r["ratios"] for r in done)}
    return first


def run(out: Path, quick: bool) -> dict[str, Any]:
    if not (DATA / "eng-fra.tsv").is_file():
        return {"note": f"{DATA_LABEL}/eng-fra.tsv is absent: real-data benchmarks skipped"}
    t0 = time.perf_counter()
    res: dict[str, Any] = {"recipe": real_model.RECIPE, "pairs": real_model.PAIRS}
    big = real_model.train_real(out)
    res["train"] = big
    big_ckpt = out / "eng_fra_real-ckpt"
    tsv = trained.short_pairs_tsv(out, real_model.PAIRS)
    train_tsv = train_split_tsv(out, tsv)
    modes = ("float32", "int8") if quick else MODES
    res["exports"] = export_modes(big_ckpt, out, "eng_fra_real", modes, train_tsv)
    for name, (mode, options, listed) in VARIANTS.items():
        if quick and name not in QUICK_VARIANTS:
            continue
        res["exports"][name] = trained.export_cached(
            big_ckpt, out / f"eng_fra_real-{name}.eatt", mode, True,
            shortlist_data=str(train_tsv) if listed else None, **options)
    arts = {m: e["artifact"] for m, e in res["exports"].items() if "artifact" in e}
    res["quality"] = quality(big_ckpt, arts, 100 if quick else 500)
    small_tsv = trained.short_pairs_tsv(out, SMALL_PAIRS)
    res["small_train"] = trained.train_cached(out, "eng_fra_small", dict(SMALL,
                                                                         data=str(small_tsv)),
                                              fit_revision=SMALL_FIT_REVISION)
    small_ckpt = out / "eng_fra_small-ckpt"
    small = export_modes(small_ckpt, out, "eng_fra_small", ("float32", "int8"),
                         train_split_tsv(out, small_tsv))
    res["small_exports"] = small
    res["small_quality"] = quality(small_ckpt, {m: e["artifact"] for m, e in small.items()
                                                if "artifact" in e}, 100 if quick else 500)
    text = res["quality"]["examples"][0]["source"]
    runs = 20 if quick else 60
    # beam identity with the old full-sort beam, on the test split (int8, both vocabularies)
    sources = res["quality"]["sources"][: 50 if quick else IDENTITY_SENTENCES]
    targets = {f"real-{m}": arts[m] for m in ("float32", "dynamic", "int8", "int8-unrolled",
                                              "int8-sl256", "int4-weights") if m in arts}
    targets.update({f"small-{m}": e["artifact"] for m, e in small.items() if "artifact" in e})
    res["speed"] = {name: {b: speed_repeated(
        path, text, b, runs, REPEATS if b == "ai-edge-litert" and name in REPEATED and not quick
        else 1, sources if b == "ai-edge-litert" and name == "real-int8" else None)
        for b in ("ai-edge-litert", "tflite-runtime")} for name, path in targets.items()}
    res["graph_state"] = {name: graph_state.measure(ckpt, text, STEPS)
                          for name, ckpt in (("real", big_ckpt), ("small", small_ckpt))}
    res["seconds"] = time.perf_counter() - t0
    return res


def _small_lines(res: dict[str, Any]) -> list[str]:
    """The small model's training and greedy / beam 4 BLEU (it is timed below too)."""
    train, q = res.get("small_train") or {}, res.get("small_quality")
    if not q:
        return []
    cells = [f"{m} greedy {r['greedy']['bleu']}, beam 4 {r['beam4']['bleu']}"
             for m, r in q.items() if isinstance(r, dict) and "beam4" in r]
    return [f"Small model ({SMALL_PAIRS:,} pairs, the train defaults): "
            f"{train.get('epochs_run')} epochs, {train.get('params'):,} parameters; "
            f"BLEU on {q['sentences']} test pairs: Keras {q['keras']['bleu']}, "
            + "; ".join(cells) + "."]


def _f(v: Any, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def _spread_cell(r: dict[str, Any]) -> Any:
    """A function of a ratio's key: its median, and [range] over the runs if repeated."""
    def cell(key: str) -> str:
        runs = [x[key] for x in r.get("ratio_runs", []) if key in x]
        spread = f" [{min(runs):.2f}–{max(runs):.2f}]" if len(runs) > 1 else ""
        return _f(r["ratios"].get(key)) + spread
    return cell


def render(res: dict[str, Any]) -> str:
    """``real.md``: exports (size, gate), quality per mode, speed ratios per backend."""
    if "note" in res:
        return res["note"] + "\n"
    out = ["# Real-data benchmark (eng-fra)", "",
           f"Training: {res['train'].get('epochs_run')} epochs, {res['train'].get('seconds')} s "
           f"fit, {res['train'].get('params'):,} parameters, sizes {res['train'].get('sizes')}.",
           "", *_small_lines(res), "", "## Exports (validation gate on ΔBLEU/ΔchrF vs Keras)", "",
           "| artifact | model bytes | × float32 | gate passed | ΔBLEU | ΔchrF | shortlist hit |",
           "|---|---|---|---|---|---|---|"]
    base = (res["exports"].get("float32") or {}).get("bytes")
    for name, e in res["exports"].items():
        m = (e.get("validation") or {}).get("metrics") or {}
        ratio = e["bytes"] / base if base and e.get("bytes") else None
        out.append(f"| {name} | {_f(e.get('bytes'), ',')} | {_f(ratio, '.3f')} | "
                   f"{(e.get('validation') or {}).get('passed', e.get('error', '-'))} | "
                   f"{_f(m.get('bleu_delta'))} | {_f(m.get('chrf_delta'))} | "
                   f"{_f(m.get('shortlist_hit_rate'), '.3f')} |")
    q = res["quality"]
    out += ["", f"## Quality: cased BLEU / chrF on {q['sentences']} test pairs (sacrebleu)", "",
            "| model | greedy | greedy + shortlist | beam 4 | beam 4 + shortlist |",
            "|---|---|---|---|---|",
            f"| Keras | {q['keras']['bleu']} / {q['keras']['chrf']} | | | |"]
    for mode, r in q.items():
        if isinstance(r, dict) and "greedy" in r:
            cells = [f"{r[k]['bleu']} / {r[k]['chrf']}" if k in r else "-"
                     for k in ("greedy", "greedy_shortlist", "beam4", "beam4_shortlist")]
            out.append(f"| {mode} | " + " | ".join(cells) + " |")
    out += ["", f"## Speed (1 thread, forced length {STEPS})", "",
            "Sentence and step: the fastest of interleaved runs. Ratios: the median over 20 "
            "alternating timing blocks of the ratio within each block (both sides timed under "
            "the same load); in brackets the shortlist ratio of bare invokes. Rows marked ×N: "
            "measured in N fresh processes, ratios the median [range] over them; sentence "
            "and step from the first.", "",
            "| artifact | backend | sentence ms | marginal step µs | shortlist step ÷ full "
            "(raw invoke) | beam4 ÷ greedy | beam4+SL ÷ greedy+SL | sentence ÷ bare "
            "interpreter | step ÷ raw step |", "|---|---|---|---|---|---|---|---|---|"]
    for name, per in res["speed"].items():
        for backend, r in per.items():
            if r.get("status") != "ok":
                out.append(f"| {name} | {backend} | {r.get('status')} | | | | | | |")
                continue
            ra, t = r["ratios"], r["timings"]
            cell = _spread_cell(r)
            sl = cell("shortlist_step_ratio_paired")
            if "shortlist_raw_step_ratio" in ra:
                sl += f" ({_f(ra['shortlist_raw_step_ratio'])})"
            runs_note = f" ×{len(r['ratio_runs'])}" if "ratio_runs" in r else ""
            out.append(f"| {name}{runs_note} | {r['backend']} | "
                       f"{_f(t['greedy_us']['min'] / 1e3)} | "
                       f"{_f(ra['marginal_step_us'], '.1f')} | {sl} | "
                       f"{cell('beam_over_greedy_paired')} | "
                       f"{cell('beam_sl_over_greedy_sl_paired')} | "
                       f"{cell('sentence_over_raw_paired')} | "
                       f"{cell('marginal_over_raw_step_paired')} |")
    texts = (res["speed"].get("real-int8") or {}).get("ai-edge-litert", {}).get("texts")
    if texts:
        same = f"{texts['beam_identical_to_full_sort']}/{texts['beam_compared']}"
        if "beam_sl_compared" in texts:
            same += (f" (over the shortlist {texts['beam_sl_identical_to_full_sort']}/"
                     f"{texts['beam_sl_compared']})")
        out += ["", f"Beam 4 of the one-sentence loop (partial selection) identical to the "
                f"old full-sort general beam on {same} test sentences (int8)."]
    out += _graph_state_lines(res.get("graph_state") or {})
    out += ["", "## Examples (int8 artifact)", ""]
    for ex in q.get("examples", []):
        out.append(f"- {ex['source']} → {ex.get('int8')} (reference: {ex['reference']})")
    return "\n".join(out) + "\n"


def _graph_state_lines(per_model: dict[str, Any]) -> list[str]:
    if not per_model:
        return []
    out = ["", f"## Decoder state in the interpreter, in-graph greedy loop (float32, batch 1, "
           f"{STEPS} forced steps, encode excluded)", "",
           "| model | stateless step (the runtime) µs | state in resource variables | "
           "in-graph WHILE loop | same ids |", "|---|---|---|---|---|"]
    for name, g in per_model.items():
        out.append(f"| {name} (vocabulary {g['vocab']:,}) | {g['sentence_us']['stateless']} | "
                   f"{_f(g['ratio']['variables'], '.3f')}× | {_f(g['ratio']['loop'], '.3f')}× "
                   f"| {g['same_ids']} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/bench"))
    ap.add_argument("--quick", action="store_true", help="float32 + int8 only, fewer runs")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    res = run(args.out.resolve(), args.quick)
    write_json(args.out / "real.json", res)
    md = render(res)
    (args.out / "real.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
