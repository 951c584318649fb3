"""What an artifact's bytes are: weight buffers vs graph structure (ops, tensors, quant params).

Reads the TFLite flatbuffer with the schema module that ships with ai-edge-litert. The int8
target (≤ 0.30 × float32) holds for the weights alone (≈ 0.26); the graph structure (~30 KB
with the WHILE-loop encoder, quantization parameters included) is a fixed cost that
dominates small models.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


def breakdown(artifact: Path) -> dict[str, Any] | None:
    """``{"model_bytes", "weight_bytes", "structure_bytes", "tensors"}``; None if unreadable."""
    try:
        from ai_edge_litert import schema_py_generated as S
    except ImportError:
        return None
    with zipfile.ZipFile(artifact) as zf:
        buf = zf.read("model.tflite")
    model = S.ModelT.InitFromObj(S.Model.GetRootAsModel(buf, 0))
    used: dict[int, int] = {}
    tensors = 0
    for graph in model.subgraphs:
        tensors += len(graph.tensors)
        for t in graph.tensors:
            data = model.buffers[t.buffer].data
            if data is not None and len(data):
                used[t.buffer] = len(data)
    weights = sum(used.values())
    return {"model_bytes": len(buf), "weight_bytes": weights,
            "structure_bytes": len(buf) - weights, "tensors": tensors}


def ratios(exports: dict[str, dict[str, Any]], artifacts: dict[str, str]) -> dict[str, Any]:
    """Per mode: the breakdown and its model/weight byte ratios to float32."""
    out = {m: breakdown(Path(p)) for m, p in artifacts.items()}
    base = out.get("float32")
    for b in out.values():
        if b and base:
            b["model_ratio"] = b["model_bytes"] / base["model_bytes"]
            b["weight_ratio"] = b["weight_bytes"] / base["weight_bytes"]
    return out
