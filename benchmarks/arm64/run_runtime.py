"""Run edge_attn.runtime on real artifacts + test inputs and write the results as JSON.

Runs in any Python that has numpy + ai_edge_litert and can import ``edge_attn.runtime``: the
host venv, the emulated aarch64 Python (benchmarks/arm64/run_emulated.sh) or a Raspberry Pi.
Two steps, so that the inputs travel with the artifacts as one small JSON file:

    # host: artifacts + their checkpoints' heldout.json -> cases.json (no runtime needed)
    python benchmarks/arm64/run_runtime.py manifest -o work/cases.json --limit 200 \
        work/dates-fp32.eatt=work/dates-ckpt/heldout.json \
        work/dates-int8.eatt=work/dates-ckpt/heldout.json ...
    # anywhere: run every artifact on its inputs -> results JSON
    python benchmarks/arm64/run_runtime.py run work/cases.json -o host.json
    benchmarks/arm64/run_emulated.sh benchmarks/arm64/run_runtime.py run work/cases.json \
        -o emu.json --pkg build/arm64/pkg
    python benchmarks/arm64/compare_runtime.py host.json emu.json

On a real device: ``manifest --copy -o pi-check/cases.json ...`` puts the artifacts and this
script into pi-check/; copy that folder over and run ``python run_runtime.py run cases.json
-o pi.json`` there (with edge-attn installed), then compare on the host.

Inputs are the checkpoint's heldout.json rows ({"test": [...]}, or a plain JSON list):
seq2seq ``[src, tgt]``, text classifier ``[label, text]``, tabular ``[label, x0, x1, ...]``;
the artifact's kind (known after loading) says which. Results per input: seq2seq ``ids``,
``text`` and ``score`` (greedy, the default of ``Translator.translate``), classifiers
``label`` + ``probs``;
per artifact: kind, quantization, model sha256, load time, batched run time, batch-1 latency,
exact-match / accuracy against the references. ``--pkg DIR`` puts DIR first on sys.path
(a tree with ``edge_attn/__init__.py`` and ``edge_attn/runtime/``) so host and emulated runs
import the very same runtime code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

SEQ2SEQ = "seq2seq"


def _rows(path: Path, split: str) -> list[list[Any]]:
    data = json.loads(path.read_text())
    rows = data.get(split) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise SystemExit(f"run_runtime: {path} has no non-empty {split!r} list")
    return rows


def cmd_manifest(args: argparse.Namespace) -> int:
    """artifact=heldout pairs -> one cases JSON (paths relative to it; shared input sets)."""
    out_dir = args.out.resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    inputsets: dict[str, list] = {}
    artifacts = []
    for pair in args.pairs:
        parts = pair.split("=")
        if len(parts) not in (2, 3):
            raise SystemExit(f"run_runtime: expected [ID=]ARTIFACT=INPUTS.json, got {pair!r}")
        *name, art, held = parts
        art_p, held_p = Path(art).resolve(), Path(held).resolve()
        for p in (art_p, held_p):
            if not p.is_file():
                raise SystemExit(f"run_runtime: {p} does not exist")
        key = os.path.relpath(held_p, out_dir)
        if key not in inputsets:
            inputsets[key] = _rows(held_p, args.split)[: args.limit or None]
        aid = name[0] if name else Path(art).stem
        if args.copy:  # a self-contained folder to scp to a device
            dest = out_dir / f"{aid}.eatt"
            if dest.resolve() != art_p:
                shutil.copyfile(art_p, dest)
            art_p = dest
        artifacts.append({"id": aid, "path": os.path.relpath(art_p, out_dir), "inputs": key})
    ids = [a["id"] for a in artifacts]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"run_runtime: artifact names must be unique, got {ids}")
    if args.copy:
        shutil.copyfile(__file__, out_dir / Path(__file__).name)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"artifacts": artifacts, "inputsets": inputsets}))
    tmp.replace(args.out)
    print(f"[run_runtime] {len(artifacts)} artifacts, "
          f"{sum(len(v) for v in inputsets.values())} inputs -> {args.out}", file=sys.stderr)
    return 0


def _split(kind: str, rows: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    """(model inputs, references) from heldout rows of this kind."""
    if kind == SEQ2SEQ:
        return [r[0] for r in rows], [r[1] for r in rows]
    if kind == "text-classifier":
        return [r[1] for r in rows], [str(r[0]) for r in rows]
    return [list(r[1:]) for r in rows], [str(r[0]) for r in rows]


def _predict(model: Any, kind: str, items: list[Any], batch: int | None) -> list[Any]:
    if kind == SEQ2SEQ:
        return model.translate(items, **({"batch_size": batch} if batch else {}))
    if kind == "text-classifier":
        return model.predict(items, **({"batch_size": batch} if batch else {}))
    return model.predict(items)


def _record(kind: str, out: Any) -> dict[str, Any]:
    if kind == SEQ2SEQ:
        return {"ids": [int(i) for i in out.ids], "text": out.text, "score": float(out.score)}
    return {"label": out.label, "probs": {k: float(v) for k, v in out.probs.items()}}


def run_artifact(rt: Any, path: Path, rows: list, threads: int | None, batch: int | None,
                 latency_n: int) -> dict[str, Any]:
    t = time.perf_counter()
    model = rt.load_model(str(path), num_threads=threads)
    load_s = time.perf_counter() - t
    kind = model.kind
    items, refs = _split(kind, rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.perf_counter()
        outs = _predict(model, kind, items, batch)
        run_s = time.perf_counter() - t
        lat = []
        for item in items[:latency_n]:  # one input per call: interactive use on a device
            t = time.perf_counter()
            _predict(model, kind, [item], 1)
            lat.append(time.perf_counter() - t)
    results = [_record(kind, o) for o in outs]
    got = [r["text"] if kind == SEQ2SEQ else r["label"] for r in results]
    return {
        "kind": kind, "quantization": model.artifact.quantization,
        "model_sha256": model.config.model_sha256, "backend": model.backend_name,
        "delegate": getattr(model.session, "delegate", ""), "n": len(results),
        "load_s": load_s, "run_s": run_s, "ms_per_input": 1e3 * run_s / len(results),
        "latency_ms_median": 1e3 * statistics.median(lat) if lat else None,
        "latency_n": len(lat),
        "accuracy": sum(g == r for g, r in zip(got, refs)) / len(refs),
        "warnings": sorted({str(w.message) for w in caught})[:5], "results": results,
    }


def import_runtime(pkg: Path | None) -> Any:
    if pkg is not None:
        if not (pkg / "edge_attn" / "runtime" / "__init__.py").is_file():
            raise SystemExit(f"run_runtime: {pkg} has no edge_attn/runtime/__init__.py")
        sys.path.insert(0, str(pkg.resolve()))
    try:
        import edge_attn.runtime as rt
    except ImportError as exc:
        raise SystemExit(f"run_runtime: cannot import edge_attn.runtime ({exc}); install the "
                         "package (pip install edge-attn) or pass --pkg DIR") from None
    return rt


def cmd_run(args: argparse.Namespace) -> int:
    rt = import_runtime(args.pkg)
    spec = json.loads(args.cases.read_text())
    base = args.cases.resolve().parent
    t0 = time.perf_counter()
    arts, failed = [], 0
    for a in spec["artifacts"]:
        if args.only and args.only not in a["id"]:
            continue
        # Progress first, so a crash (SIGSEGV/SIGILL under emulation) names the artifact.
        print(f"[run_runtime] {a['id']}", file=sys.stderr, flush=True)
        rows = spec["inputsets"][a["inputs"]][: args.limit or None]
        try:
            rec = run_artifact(rt, base / a["path"], rows, args.threads, args.batch_size,
                               args.latency_n)
        except Exception as exc:  # one line per broken artifact; the others still run
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
            print(f"[run_runtime]   ERROR {msg}", file=sys.stderr, flush=True)
            arts.append({"id": a["id"], "error": msg})
            failed += 1
            continue
        arts.append({"id": a["id"], **rec})
        print(f"[run_runtime]   {rec['kind']} {rec['quantization']}: n={rec['n']} "
              f"acc={rec['accuracy']:.3f} load={rec['load_s']:.2f}s run={rec['run_s']:.2f}s "
              f"({rec['ms_per_input']:.2f} ms/input)", file=sys.stderr, flush=True)
    import numpy as np

    meta = {"machine": platform.machine(), "python": platform.python_version(),
            "numpy": np.__version__, "runtime": os.path.dirname(rt.__file__),
            "threads": args.threads, "qemu_cpu": os.environ.get("QEMU_CPU", ""),
            "total_s": time.perf_counter() - t0}
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "artifacts": arts}))
    tmp.replace(args.out)
    print(f"[run_runtime] {len(arts)} artifacts -> {args.out} ({meta['total_s']:.1f}s, "
          f"{meta['machine']}{f', {failed} FAILED' if failed else ''})", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest", help="ARTIFACT=HELDOUT.json pairs -> cases JSON")
    m.add_argument("pairs", nargs="+", metavar="[ID=]ARTIFACT=INPUTS.json",
                   help="ID defaults to the artifact's file stem")
    m.add_argument("-o", "--out", type=Path, required=True)
    m.add_argument("--split", default="test", help="key of the heldout JSON [test]")
    m.add_argument("--limit", type=int, default=0, help="first N inputs per set (0 = all)")
    m.add_argument("--copy", action="store_true",
                   help="copy the artifacts (as ID.eatt) and this script next to the output, "
                        "making its folder self-contained (to scp to a device)")
    r = sub.add_parser("run", help="cases JSON -> results JSON")
    r.add_argument("cases", type=Path)
    r.add_argument("-o", "--out", type=Path, required=True)
    r.add_argument("--pkg", type=Path, help="dir holding edge_attn/runtime, put first")
    r.add_argument("--threads", type=int, default=None, help="interpreter threads")
    r.add_argument("--batch-size", type=int, default=None, help="runtime default if unset")
    r.add_argument("--limit", type=int, default=0, help="first N inputs per artifact")
    r.add_argument("--latency-n", type=int, default=20, help="batch-1 timing calls")
    r.add_argument("--only", default="", help="substring filter on artifact ids")
    args = ap.parse_args(argv)
    return cmd_manifest(args) if args.cmd == "manifest" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
