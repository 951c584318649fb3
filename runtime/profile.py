"""Latency, size and memory profile of artifacts, run with the runtime only (no TensorFlow).

:func:`profile_model` loads one artifact and measures, on synthetic inputs (``src_len`` real
token ids drawn from the source vocabulary with a fixed seed, right-padded to the model's
fixed length S; random rows for tabular models):

* load time (read + checksum + interpreter + contract check), file and model size;
* per-signature latency (``encode``, ``decode_step``, ``classify``) through the runtime's
  :class:`~edge_attn.runtime.session.Session` — p50/p90/p99 in µs (``time.perf_counter_ns``);
* seq2seq: full greedy sentence latency — ``encode`` plus exactly ``tgt_len`` decoder steps
  through the runtime's own greedy search with ``<eos>`` suppressed, so every model decodes
  the same number of tokens — and tokens/s (``batch * tgt_len`` per sentence call);
* memory: resident set size before load and after load + runs (the delta is this model's
  cost even when several models are profiled in one process) and the process peak
  (``ru_maxrss``);
* backend name and version, threads, CPU model and machine (:func:`machine_info`).

:func:`compare` and :func:`render_table` (in :mod:`.profile_report`) put several results side
by side with ratios to the first one.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import constants as C
from .errors import InputError
from .profile_report import (  # noqa: F401  (the public API of this module)
    compare,
    primary_latency_us,
    render_table,
    speed_note,
)

Progress = Callable[[int, int], None]  # (done, total) of the current model
PERCENTILES = (50, 90, 99)
SEED = 0


def cpu_model() -> str:
    """The CPU's name: ``/proc/cpuinfo`` model name (or Pi ``Model``), else platform."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU model, architecture, logical cores, OS and Python version."""
    return {"cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def current_rss_mb() -> float | None:
    """Resident set size of this process now (psutil, else ``/proc/self/statm``)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        pass
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def peak_rss_mb() -> float | None:
    """Peak resident set size of this process (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def summarize(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p90/p99, mean and min in µs of timings in ns (percentiles are non-decreasing)."""
    us = np.asarray(samples_ns, np.float64) / 1e3
    out = {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(us, PERCENTILES))}
    out.update(mean=float(us.mean()), min=float(us.min()), n=int(us.size))
    return out


def time_calls(fn: Callable[[], Any], runs: int, warmup: int,
               tick: Callable[[], None] | None = None) -> list[int]:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times; the timings in ns."""
    for _ in range(warmup):
        fn()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
        if tick:
            tick()
    return samples


def synthetic_ids(vocab_size: int, batch: int, src_len: int, length: int,
                  seed: int = SEED) -> np.ndarray:
    """int32[batch, length]: ``src_len`` random non-special ids per row, then padding."""
    first = 4  # <pad> <unk> <bos> <eos>
    if vocab_size <= first:
        raise InputError(f"vocabulary of {vocab_size} tokens has no ordinary tokens")
    rng = np.random.default_rng(seed)
    ids = np.zeros((batch, length), np.int32)
    ids[:, :src_len] = rng.integers(first, vocab_size, size=(batch, src_len))
    return ids


BEAM = 4  # beam width profiled next to greedy


def _check_lengths(name: str, value: int | None, limit: int) -> int:
    value = limit if value is None else value
    if not isinstance(value, int) or value < 1 or value > limit:
        raise InputError(f"{name} must be between 1 and the model's {limit}, got {value}")
    return value


class _Tally:
    """Counts finished timed calls and reports them to a :data:`Progress` callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def tick(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def forced_greedy(translator: Any, tokens: np.ndarray, steps: int) -> np.ndarray:
    """Encode ``tokens`` int32[B, S] and run exactly ``steps`` greedy steps with ``<eos>``
    suppressed, through :meth:`~edge_attn.runtime.decoder.Decoder.forced` (the decoding path
    ``Translator.translate`` takes: the bound batch-1 loop for one sentence,
    :func:`~edge_attn.runtime.beam.greedy_search` for a batch), so the cost is that of a
    translation minus tokenization, with a fixed length.

    Returns:
        int32[B, steps] the decoded ids.
    """
    return translator.decoder.forced(tokens, steps)


def _profile_seq2seq(model: Any, runs: int, warmup: int, batch: int, src_len: int | None,
                     tgt_len: int | None, tally: _Tally) -> dict[str, Any]:
    s = _check_lengths("--src-len", src_len, model.source_len)
    t = _check_lengths("--tgt-len", tgt_len, model.max_target_len)
    tokens = synthetic_ids(model.source_tokenizer.vocab_size, batch, s, model.source_len)
    run = model.session.run
    enc_feed, dec_feed = model.decoder.first_feeds(tokens)
    latency = {C.ENCODE: summarize(time_calls(lambda: run(C.ENCODE, enc_feed), runs, warmup,
                                              tally.tick)),
               C.DECODE_STEP: summarize(time_calls(lambda: run(C.DECODE_STEP, dec_feed), runs,
                                                   warmup, tally.tick))}
    sentence_runs = max(1, runs // 4)
    samples = time_calls(lambda: forced_greedy(model, tokens, t), sentence_runs,
                         max(1, warmup // 4), tally.tick)
    sentence = summarize(samples)
    out = {"latency_us": latency, "src_len": s, "tgt_len": t,
           "sentence": {"latency_us": sentence, "steps": t, "tokens": batch * t,
                        "tokens_per_s": batch * t / (sentence["p50"] / 1e6)},
           "_calls": 2 * runs + sentence_runs}
    out["variants"] = _variants(model, tokens, t, sentence_runs, warmup, tally, sentence)
    out["_calls"] += len(out["variants"]) * sentence_runs
    return out


def _variants(model: Any, tokens: np.ndarray, steps: int, runs: int, warmup: int,
              tally: _Tally, greedy: dict[str, float]) -> dict[str, Any]:
    """The same forced sentence with beam search and with the vocabulary shortlist, timed
    like greedy: ``{name: {"latency_us", "vs_greedy"}}`` (p50 ratios)."""
    dec, sl = model.decoder, getattr(model, "shortlist", None)
    runs_of = {f"beam{BEAM}": lambda: dec.forced(tokens, steps, BEAM)}
    if sl is not None:
        runs_of["greedy+shortlist"] = lambda: dec.forced(tokens, steps, 1, sl)
        runs_of[f"beam{BEAM}+shortlist"] = lambda: dec.forced(tokens, steps, BEAM, sl)
    out = {}
    for name, fn in runs_of.items():
        lat = summarize(time_calls(fn, runs, max(1, warmup // 4), tally.tick))
        out[name] = {"latency_us": lat, "vs_greedy": lat["p50"] / greedy["p50"]}
    return out


def _profile_classifier(model: Any, runs: int, warmup: int, batch: int, src_len: int | None,
                        tally: _Tally) -> dict[str, Any]:
    if model.kind == C.TEXT_CLASSIFIER:
        s = _check_lengths("--src-len", src_len, model.source_len)
        inputs = synthetic_ids(model.tokenizer.vocab_size, batch, s, model.source_len)
    else:
        s = model.n_features
        inputs = np.random.default_rng(SEED).normal(size=(batch, s)).astype(np.float32)
    feed = {C.CLS_INPUTS: inputs}
    samples = time_calls(lambda: model.session.run(C.CLASSIFY, feed), runs, warmup, tally.tick)
    return {"latency_us": {C.CLASSIFY: summarize(samples)}, "src_len": s, "tgt_len": None,
            "sentence": None, "_calls": runs}


def planned_calls(runs: int) -> int:
    """Timed calls of one seq2seq profile (an upper bound for classifiers): encode, step,
    greedy, beam and the two shortlist variants."""
    return 2 * runs + 4 * max(1, runs // 4)


_primed: set[str] = set()


def _first_use(path: str | os.PathLike, threads: int | None,
               backend: str | None) -> dict[str, float | None] | None:
    """Pay the once-per-process costs (backend import, first interpreter) outside the
    measurement by loading the model once; returns what they cost, or None if already paid."""
    from . import load_model
    from .backend import get_backend

    gc.collect()
    rss = current_rss_mb()
    t0 = time.perf_counter_ns()
    name = get_backend(backend).name
    if name in _primed:
        return None
    import_ms = (time.perf_counter_ns() - t0) / 1e6
    load_model(os.fspath(path), num_threads=threads, backend=backend)
    _primed.add(name)
    gc.collect()
    after = current_rss_mb()
    return {"backend_import_ms": import_ms,
            "import_and_first_load_ms": (time.perf_counter_ns() - t0) / 1e6,
            "rss_mb": None if rss is None or after is None else after - rss}


def profile_model(path: str | os.PathLike, runs: int = 100, warmup: int = 10,
                  threads: int | None = None, batch: int = 1, src_len: int | None = None,
                  tgt_len: int | None = None, backend: str | None = None,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Profile one artifact (see the module docstring).

    Args:
        path: The artifact file.
        runs: Timed calls per signature (greedy sentences: ``max(1, runs // 4)``).
        warmup: Untimed calls before timing.
        threads: Interpreter threads (``None``: backend default).
        batch: Rows per call.
        src_len: Real source tokens per row (default: the model's fixed length S).
        tgt_len: Decoded tokens per greedy sentence (default: ``max_target_len``).
        backend: Interpreter backend name.
        progress: Called as ``progress(done, total)`` after every timed call.

    Returns:
        A JSON-serialisable dict (file, sizes, load time, memory, latencies, backend, machine).

    Raises:
        ArtifactError: Unreadable artifact. InputError: Bad option.
    """
    from . import load_model

    for name, value, low in (("runs", runs, 1), ("warmup", warmup, 0), ("batch", batch, 1)):
        if not isinstance(value, int) or value < low:
            raise InputError(f"--{name} must be an integer >= {low}, got {value!r}")
    first_use = _first_use(path, threads, backend)
    gc.collect()
    rss_before = current_rss_mb()
    t0 = time.perf_counter_ns()
    model = load_model(os.fspath(path), num_threads=threads, backend=backend)
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    tally = _Tally(planned_calls(runs), progress)
    if model.kind == C.SEQ2SEQ:
        body = _profile_seq2seq(model, runs, warmup, batch, src_len, tgt_len, tally)
    else:
        body = _profile_classifier(model, runs, warmup, batch, src_len, tally)
    if progress:
        progress(tally.total, tally.total)
    rss_after = current_rss_mb()
    be = model.session.backend
    body.pop("_calls")
    result = {"path": os.fspath(path), "name": Path(path).name, "kind": model.kind,
              "quantization": model.artifact.quantization,
              "file_bytes": Path(path).stat().st_size,
              "model_bytes": len(model.artifact.model_bytes), "load_ms": load_ms,
              "first_use": first_use,
              "backend": {"name": be.name, "version": be.version},
              "threads": threads, "batch": batch, "runs": runs, "warmup": warmup, **body,
              "rss_mb": {"before_load": rss_before, "after_runs": rss_after,
                         "delta": (None if rss_before is None or rss_after is None
                                   else rss_after - rss_before),
                         "process_peak": peak_rss_mb()},
              "machine": machine_info()}
    del model
    gc.collect()
    return result
