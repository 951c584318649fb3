"""Mixed precision: chosen parts of an int8 model kept in float (``--keep-float``).

Mechanism (picked by measurement, see the issue-13 note): the TFLite converter calibrates
only (``_experimental_calibrate_only``), then ``mlir_quantize`` quantizes with a denylist —
the path ``tf.lite.experimental.QuantizationDebugger`` uses. It works on our multi-signature
models (``encode``, ``decode_step``, ``decode_step_shortlist``, the WHILE encoder) and
inserts DEQUANTIZE / QUANTIZE around each float island.

Parts:

* ``attention``: the decoder's attention score, mask, softmax and weighted sum — every op
  whose output tensor is named under the ``attention`` layer's scope;
* ``output``: the output projection and its log-softmax — found from the graph (walking
  back from each LOG_SOFTMAX to the first FULLY_CONNECTED / BATCH_MATMUL, and the GATHERs
  of a shortlist's weight rows), so it does not depend on names;
* any TFLite op type name (``SOFTMAX``, ``LOG_SOFTMAX``, ``FULLY_CONNECTED`` …): every op
  of that type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from edge_attn.runtime.errors import ExportError

PARTS = ("attention", "output")
_ATTENTION = re.compile(r"(^|/)attention(_\d+)?/")
_MATMUL = ("FULLY_CONNECTED", "BATCH_MATMUL")


def _graph(model: bytes) -> tuple[Any, list[str]]:
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return m, [builtin.get(max(c.builtinCode, c.deprecatedBuiltinCode), "CUSTOM")
               for c in m.operatorCodes]


def _name(g: Any, op: Any) -> str:
    return g.tensors[op.outputs[0]].name.decode()


def _output_nodes(g: Any, names: list[str]) -> list[str]:
    """Ops of the output projection + log-softmax of one subgraph (see the module doc)."""
    producer = {i: op for op in g.operators or [] for i in op.outputs}
    seen: list[Any] = []
    todo = [op for op in g.operators or [] if names[op.opcodeIndex] == "LOG_SOFTMAX"]
    while todo:
        op = todo.pop()
        if any(op is s for s in seen):
            continue
        seen.append(op)
        kind = names[op.opcodeIndex]
        for i in op.inputs if op.inputs is not None else []:
            src = producer.get(i)
            if src is None:
                continue
            if kind in _MATMUL and names[src.opcodeIndex] != "GATHER":
                continue  # the features side of the projection: stop
            todo.append(src)
    return [_name(g, op) for op in seen]


def denylist(model: bytes, keep: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(op types, node names)`` to keep in float for the parts ``keep`` of a calibrated
    model (its tensor names intact).

    Raises:
        ExportError: A part matches nothing in this model (naming what would).
    """
    m, names = _graph(model)
    present = sorted(set(names))
    ops: list[str] = []
    nodes: list[str] = []
    for part in keep:
        if part == "attention":
            found = [_name(g, op) for g in m.subgraphs for op in g.operators or []
                     if op.outputs is not None and len(op.outputs)
                     and _ATTENTION.search(_name(g, op))]
        elif part == "output":
            found = [n for g in m.subgraphs for n in _output_nodes(g, names)]
        elif part.upper() in present:
            ops.append(part.upper())
            continue
        else:
            raise ExportError(f"--keep-float {part!r}: not a part ({', '.join(PARTS)}) nor an "
                              f"op type of this model ({', '.join(present)})")
        if not found:
            raise ExportError(f"--keep-float {part}: no {part} ops found in this model")
        nodes.extend(n for n in found if n not in nodes)
    return ops, nodes


def quantize_keeping_float(calibrated: bytes, keep: Sequence[str]) -> bytes:
    """int8-quantize a calibrate-only model, leaving the parts ``keep`` in float
    (float inputs and outputs, per-tensor scales as the plain int8 export)."""
    from tensorflow.lite.python.convert import mlir_quantize

    ops, nodes = denylist(calibrated, keep)
    return mlir_quantize(calibrated, disable_per_channel=True, fully_quantize=False,
                         denylisted_ops=ops or None, denylisted_nodes=nodes or None)
