"""Seeded mutations of an int8 and a float32 artifact through the runtime API.

Each mutated artifact is loaded from bytes and translates two sentences greedily and one with
a beam, in a worker process (benchmarks/fuzz.py), so that a segfault is seen as a crash of
that mutation instead of killing the test run. Allowed: a typed one-line
``EdgeAttnError``, or outputs identical to the unmutated artifact's (a deliberately edited,
re-checksummed model may also compute something else, but not crash or raise anything
else). Every kind runs with 40 seeds per artifact: 1,040 mutations, about 10 s (most stop
at the zip or checksum checks). ``benchmarks/fuzz.py --seeds N`` runs larger batches and
prints the counts per kind and outcome.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _fuzz():
    spec = importlib.util.spec_from_file_location("fuzz", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bases(pipeline: dict) -> list[Path]:
    bases = [pipeline["dates-int8"], pipeline["dates-float32"]]
    missing = [str(b) for b in bases if not Path(b).is_file()]
    if missing:
        pytest.fail(f"test artifacts missing: {missing}")
    return bases


def _check(results: list[dict], fuzz, expected: int) -> None:
    assert len(results) == expected
    bad = fuzz.failures(results)
    assert not bad, fuzz.summarize(results)
    kinds = {r["kind"] for r in results}
    assert kinds == set(fuzz._mutations().KINDS)
    # the run reached the interpreter: some mutations load and give identical outputs
    assert any(r["outcome"] == "same" for r in results)
    assert sum(r["outcome"] == "error" for r in results) > len(results) // 2


def test_fuzz_artifacts(pipeline):
    fuzz = _fuzz()
    results = fuzz.run_fuzz(_bases(pipeline), range(40))
    _check(results, fuzz, 2 * 40 * len(fuzz._mutations().KINDS))


def test_mutations_are_reproducible(pipeline):
    mut = _fuzz()._mutations()
    data = Path(pipeline["dates-int8"]).read_bytes()
    for kind in mut.KINDS:
        assert mut.mutate(data, kind, 3) == mut.mutate(data, kind, 3)
        assert mut.mutate(data, kind, 3)[0] != data or kind.startswith("json-")
