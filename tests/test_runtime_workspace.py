"""Signatures of one interpreter used at different batch sizes, one after another: the same
numbers as fresh interpreters, and no crash (tflite-runtime 2.14's XNNPACK delegate shares a
workspace between subgraphs; see runtime/workspace.py)."""

from __future__ import annotations

import numpy as np

from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import read_artifact
from edge_attn.runtime.session import Session, Signature, TensorSpec
from edge_attn.runtime.workspace import after_allocation


def _feeds(session: Session, name: str, batch: int, seed: int) -> dict[str, np.ndarray]:
    """Valid inputs of a signature: ids in range, a real mask, small float states."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for k, spec in session.signatures[name].inputs.items():
        if k == C.DEC_EXTRA_CANDIDATES:
            feeds[k] = np.arange(4, 20, dtype=np.int32)
            continue
        if k == C.ENC_TOKENS:
            feeds[k] = np.tile(np.arange(4, 4 + spec.shape[1], dtype=np.int32), (batch, 1))
            continue
        shape = [batch if d < 0 else d for d in spec.shape]
        if spec.dtype == np.int32:
            feeds[k] = rng.integers(4, 12, shape).astype(np.int32)
        elif k == C.DEC_MASK:
            feeds[k] = np.ones(shape, np.float32)
        else:
            feeds[k] = (rng.standard_normal(shape) * 0.3).astype(np.float32)
    return feeds


def test_alternating_batch_sizes_across_signatures_give_fresh_interpreter_results(pipeline):
    """The pattern that crashed tflite-runtime 2.14 (a shortlist step at batch 1, then
    ``decode_step`` at batch 2, again and again): every call equals the same call on a
    session that never ran anything else."""
    model = read_artifact(pipeline["dates-float32-shortlist"]).model_bytes
    # each signature keeps its batch: nothing prepares it again unless the session does
    plan = [(C.DECODE_STEP_SHORTLIST, 1), (C.DECODE_STEP, 2), (C.ENCODE, 3)]
    shared = Session(model, num_threads=1)
    feeds = [_feeds(shared, name, batch, i) for i, (name, batch) in enumerate(plan)]
    want = [Session(model, num_threads=1).run(name, f) for (name, _), f in zip(plan, feeds)]
    for _ in range(20):
        for (name, _), f, w in zip(plan, feeds, want):
            for _ in range(3):
                got = shared.run(name, f)
                for k, v in w.items():
                    np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


def _sig(name: str, subgraph: int, shapes: dict[str, tuple[int, ...]]) -> Signature:
    inputs = {k: TensorSpec(k, 10 * subgraph + i, (-1, *s[1:]), np.dtype(np.float32))
              for i, (k, s) in enumerate(shapes.items())}
    sig = Signature(name, subgraph, inputs, {})
    sig.allocated = dict(shapes)
    return sig


class _Wrapper:
    def __init__(self) -> None:
        self.resized: list[tuple[int, list[int], int]] = []

    def ResizeInputTensor(self, index, shape, strict, subgraph):  # noqa: N802 (the API's name)
        self.resized.append((index, shape.tolist(), subgraph))


def test_only_growth_past_the_largest_shapes_marks_the_other_signatures():
    w = _Wrapper()
    enc, step = _sig("encode", 1, {"tokens": (1, 5)}), _sig("step", 2, {"token": (1,),
                                                                        "state": (1, 3)})
    sigs = [enc, step]
    after_allocation(w, sigs, enc, True)  # first allocation: growth, the step is marked
    assert w.resized == [(20, [2], 2)] and step.allocated == {}
    step.allocated = {"token": (1,), "state": (1, 3)}
    after_allocation(w, sigs, step, True)  # the step's first: the encoder is marked
    assert w.resized[-1] == (10, [2, 5], 1) and enc.allocated == {}
    enc.allocated = {"tokens": (1, 5)}
    n = len(w.resized)
    after_allocation(w, sigs, enc, True)  # back to its own largest: nothing grew
    assert len(w.resized) == n and step.allocated
    enc.allocated = {"tokens": (4, 5)}
    after_allocation(w, sigs, enc, False)  # growth on a backend without the shared workspace
    assert len(w.resized) == n and step.allocated and enc.largest["tokens"] == (4, 5)
