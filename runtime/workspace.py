"""tflite-runtime 2.14's XNNPACK delegate: one workspace shared by an interpreter's subgraphs.

That delegate grows the workspace when a subgraph is prepared for larger tensors; subgraphs
prepared before keep pointers into the old workspace and crash or corrupt memory on their
next invoke. Measured on the project's shortlist artifacts: a shortlist step at batch 1
alternating with ``decode_step`` at batch 2 segfaults within a few calls; preparing any
decode subgraph at batch 8 first, or preparing the others again after a growth, avoids it;
ai-edge-litert does not crash. A subgraph prepares again only when an input's shape changes,
so :func:`after_allocation` changes the batch dimension of every other allocated signature
(no allocation: the session sets the real shapes back, and allocates, on that signature's
next call). Only growth past a signature's largest shapes can grow the workspace, so this
ends once each signature has seen its largest batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def after_allocation(wrapper: Any, signatures: Iterable[Any], sig: Any, reprepare: bool
                     ) -> None:
    """Record ``sig``'s allocated shapes; if they grew past its largest and ``reprepare``,
    mark every other allocated signature for preparing again.

    Args:
        wrapper: The interpreter wrapper (``ResizeInputTensor``).
        signatures: Every :class:`~.session.Signature` of the interpreter.
        sig: The signature just allocated (``allocated``: its input shapes).
        reprepare: The backend shares the workspace this way (tflite-runtime with XNNPACK).
    """
    grew = False
    for k, shape in sig.allocated.items():
        top = sig.largest.get(k)
        if top is None or len(top) != len(shape) or any(a > b for a, b in zip(shape, top)):
            grew = True
            top = shape if top is None or len(top) != len(shape) else top
        sig.largest[k] = tuple(max(a, b) for a, b in zip(shape, top))
    if not (reprepare and grew):
        return
    for other in signatures:
        if other is sig or not other.allocated:
            continue
        for k, shape in other.allocated.items():
            if shape and other.inputs[k].shape[:1] == (-1,):  # a dynamic batch dim
                wrapper.ResizeInputTensor(other.inputs[k].index,
                                          np.array((shape[0] + 1, *shape[1:]), np.int32),
                                          False, other.subgraph)
                other.allocated.clear()  # every input is set to its shape again
                break
