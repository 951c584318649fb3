"""Fuzz the artifact reader and loader with seeded mutations (see fuzz_mutations.py).

Each mutated artifact goes through the runtime API in a worker process: ``load_model(bytes)``
then a greedy and a beam translation of two sentences. Allowed outcomes:

* ``error`` — a typed :class:`~edge_attn.runtime.errors.EdgeAttnError` with a one-line message;
* ``same`` — it loaded and every output equals the unmutated artifact's;
* ``edited-model`` — only for ``model-rechecksum`` (a deliberately edited, re-checksummed
  model may legitimately compute something else).

Failures: ``traceback`` (any other exception), ``multiline-error``, ``different`` (outputs
changed without an error), ``crash`` (the worker died, e.g. a segfault in the interpreter;
it is restarted) and ``hang`` (no answer within the timeout). A failure names its kind and
seed; ``mutate(data, kind, seed)`` reproduces it.

Usage::

    python benchmarks/fuzz.py --seeds 40                     # 2 artifacts x 15 kinds x 40
    .venv-rt/bin/python benchmarks/fuzz.py --backend tflite-runtime --seeds 40
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SENTENCES = ("the 3rd of March, 2021", "mercredi 14 juillet 1965")
OK_OUTCOMES = ("error", "same", "edited-model")
_TAG = "@@fuzz "


def _mutations():
    spec = importlib.util.spec_from_file_location("fuzz_mutations", HERE / "fuzz_mutations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- worker side (runs the runtime; may die) ---------------------------------------------------

def _outputs(data: bytes) -> str:
    """Everything the runtime computes for the probe sentences, as one JSON string."""
    import warnings

    from edge_attn.runtime import load_model
    from edge_attn.runtime.translator import Translator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(data)
        if not isinstance(model, Translator):
            return f"loaded as {type(model).__name__}"
        greedy = [r.to_dict() for r in model.translate(list(SENTENCES))]
        beam = [r.to_dict() for r in model.translate(list(SENTENCES[:1]), beam=3)]
    return json.dumps([greedy, beam], sort_keys=True)


def _judge(data: bytes, reference: str, edited_model: bool) -> tuple[str, str]:
    """``(outcome, detail)`` of one mutated artifact."""
    import traceback

    from edge_attn.runtime.errors import EdgeAttnError

    try:
        out = _outputs(data)
    except EdgeAttnError as exc:
        text = str(exc)
        outcome = "error" if text and "\n" not in text else "multiline-error"
        return outcome, f"{type(exc).__name__}: {text[:300]}"
    except Exception:  # noqa: BLE001 - the point is to catch what should not happen
        return "traceback", traceback.format_exc()[-2000:]
    if out == reference:
        return "same", ""
    return ("edited-model" if edited_model else "different"), out[:300]


def worker() -> None:
    """Answer one JSON job per stdin line (``base``, ``kind``, ``seed``) on stdout."""
    import faulthandler

    faulthandler.enable()  # a crash leaves the Python stack on stderr for the report
    mut = _mutations()
    bases: dict[str, tuple[bytes, str]] = {}
    for line in sys.stdin:
        job = json.loads(line)
        if job["base"] not in bases:
            data = Path(job["base"]).read_bytes()
            bases[job["base"]] = (data, _outputs(data))
        data, reference = bases[job["base"]]
        mutated, what = mut.mutate(data, job["kind"], job["seed"])
        if mutated == data:
            outcome, detail = "same", "no change"
        else:
            outcome, detail = _judge(mutated, reference, job["kind"] in mut.EDITED_MODEL_KINDS)
        sys.stdout.write(_TAG + json.dumps({"outcome": outcome, "what": what,
                                            "detail": detail}) + "\n")
        sys.stdout.flush()


# -- parent side -----------------------------------------------------------------------------

class _Worker:
    """A worker process answering jobs; restarted after a crash or a hang."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.python, self.env, self.proc = python, env, None
        self.stderr = tempfile.TemporaryFile()

    def ask(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.stderr.seek(0)
            self.stderr.truncate()
            self.proc = subprocess.Popen(
                [self.python, str(Path(__file__).resolve()), "--worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self.stderr, env=self.env, text=True)
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.close()
                return {"outcome": "hang", "what": "", "detail": f"no answer in {timeout} s"}
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait()
                self.proc = None
                self.stderr.seek(0)
                tail = self.stderr.read()[-3000:].decode("utf-8", "replace")
                return {"outcome": "crash", "what": "",
                        "detail": f"worker exit code {code}: {tail}"}
            if line.startswith(_TAG):
                return json.loads(line[len(_TAG):])

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def run_fuzz(bases: list[Path], seeds: range, kinds: tuple[str, ...] | None = None,
             python: str | None = None, backend: str | None = None,
             timeout: float = 60.0) -> list[dict[str, Any]]:
    """Run every ``(base, kind, seed)`` mutation; one result dict per mutation.

    Args:
        bases: Well-formed seq2seq artifacts to mutate.
        seeds: The seeds per kind and artifact.
        kinds: Mutation kinds (default: all).
        python: Interpreter for the worker (default: this one).
        backend: ``EDGE_ATTN_BACKEND`` for the worker (default: inherited).
        timeout: Seconds one mutation may take before it counts as a hang.

    Returns:
        Dicts with ``base``, ``kind``, ``seed``, ``outcome``, ``what``, ``detail``.
    """
    kinds = kinds or _mutations().KINDS
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    if backend:
        env["EDGE_ATTN_BACKEND"] = backend
    w = _Worker(python or sys.executable, env)
    results = []
    try:
        for base in bases:
            for kind in kinds:
                for seed in seeds:
                    job = {"base": str(base), "kind": kind, "seed": seed}
                    results.append({**job, "base": Path(base).name, **w.ask(job, timeout)})
    finally:
        w.close()
    return results


def summarize(results: list[dict[str, Any]]) -> str:
    """A table of counts per mutation kind and outcome, then every failure."""
    outcomes = ["error", "same", "edited-model", "traceback", "multiline-error", "different",
                "crash", "hang"]
    counts = Counter((r["kind"], r["outcome"]) for r in results)
    kinds = list(dict.fromkeys(r["kind"] for r in results))
    lines = [f"{'kind':20s}" + "".join(f"{o:>16s}" for o in outcomes)]
    for k in [*kinds, "total"]:
        row = [sum(counts[(kk, o)] for kk in kinds) if k == "total" else counts[(k, o)]
               for o in outcomes]
        lines.append(f"{k:20s}" + "".join(f"{n:16d}" for n in row))
    for r in failures(results):
        lines.append(f"FAIL {r['outcome']} {r['base']} {r['kind']} seed={r['seed']} "
                     f"({r['what']}): {r['detail']}")
    return "\n".join(lines)


def failures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results whose outcome is not allowed."""
    return [r for r in results if r["outcome"] not in OK_OUTCOMES]


def _default_bases() -> list[Path]:
    folder = Path(os.environ.get("EDGE_ATTN_FIXTURES", ROOT / "build" / "fixtures"))
    return [folder / "dates-int8.eatt", folder / "dates-float32.eatt"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("artifacts", nargs="*", type=Path,
                        help="seq2seq artifacts [default: $EDGE_ATTN_FIXTURES/dates-*.eatt]")
    parser.add_argument("--seeds", type=int, default=40, help="seeds per kind and artifact")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="*", help="mutation kinds [default: all]")
    parser.add_argument("--backend", help="EDGE_ATTN_BACKEND for the worker")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    if args.worker:
        worker()
        return 0
    bases = args.artifacts or _default_bases()
    start = time.perf_counter()
    results = run_fuzz(bases, range(args.first_seed, args.first_seed + args.seeds),
                       tuple(args.kinds) if args.kinds else None, backend=args.backend)
    from edge_attn.runtime.backend import get_backend

    print(f"{len(results)} mutations of {', '.join(b.name for b in bases)} in "
          f"{time.perf_counter() - start:.0f} s; python {sys.version.split()[0]}, "
          f"backend {get_backend(args.backend).describe()}")
    print(summarize(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if failures(results) else 0


if __name__ == "__main__":
    sys.exit(main())
