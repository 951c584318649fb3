"""A bounds-checked look inside a TFLite flatbuffer before any interpreter sees it.

The interpreter verifies the flatbuffer's structure itself, but not what a well-formed model
asks of it: one edited dimension (``[1, 48]`` → ``[1, 1073741872]``, two flipped bits) makes
it allocate gigabytes. This module reads just enough of the TFLite schema (model → subgraphs
→ tensors → shape, type, buffer) to refuse tensors no edge-attn model has. Pure Python,
every read checked against the buffer's bounds.

Schema fields used (tensorflow/lite/schema/schema.fbs): ``Model.subgraphs`` (field 2),
``Model.operator_codes`` (1), ``Model.buffers`` (4), ``SubGraph.tensors`` / ``inputs`` /
``outputs`` / ``operators`` (0–3), ``Operator.opcode_index`` / ``inputs`` / ``outputs`` /
``intermediates`` (0, 1, 2, 8), ``Tensor.shape`` (0), ``Tensor.type`` (1), ``Tensor.buffer``
(2), ``Tensor.shape_signature`` (7).
"""

from __future__ import annotations

import struct

from .errors import ArtifactError
from .flatbuffer_verify import StructureError, verify_structure

MAX_TENSOR_BYTES = 256 * 1024 * 1024
"""Largest tensor a model may declare (bytes, dynamic dimensions counted as 1)."""
MAX_TOTAL_TENSOR_BYTES = 1024 * 1024 * 1024
"""Largest sum of all declared tensor sizes (bytes)."""
SCALE_RANGE = (1e-15, 1e15)
"""Quantization scales accepted (real models: about 1e-9 for int16x8 biases to 1e2)."""
# Tensor types a signature may expose (numpy-mappable): float32/16/64, int8/16/32/64, uint8,
# bool. Resource and variant tensors stay inside the model.
_IO_TYPES = frozenset({0, 1, 2, 3, 4, 6, 7, 9, 10})

# TensorType -> bytes per element (STRING, RESOURCE, VARIANT: counted as 1; INT4 as 1).
_ITEM_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 5: 1, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16,
               12: 8, 13: 1, 14: 1, 15: 4, 16: 2, 17: 1, 18: 2}


_ANY = 1 << 30
# Builtin operator code -> (min inputs, max inputs, min outputs, max outputs), as TFLite's
# kernels require. Kernels and the XNNPACK delegate index a node's inputs by position, some
# before checking the count (a STRIDED_SLICE left with one input crashed the process), so a
# count outside these ranges is refused here. Operators not listed are not checked.
_UNARY = (1, 1, 1, 1)
_BINARY = (2, 2, 1, 1)
_ARITY: dict[int, tuple[int, int, int, int]] = {
    **dict.fromkeys((6, 8, 14, 19, 21, 25, 28, 43, 47, 50, 53, 59, 73, 75, 76, 77, 87, 92,
                     93, 101, 114, 117), _UNARY),
    **dict.fromkeys((0, 7, 18, 34, 36, 39, 40, 41, 42, 55, 56, 57, 58, 61, 62, 63, 69, 70,
                     71, 72, 74, 78, 79, 81, 82, 84, 86, 89, 90, 91, 94, 95, 99, 105, 107,
                     126, 130), _BINARY),
    2: (1, _ANY, 1, 1), 3: (2, 3, 1, 1), 4: (2, 3, 1, 1), 9: (2, 3, 1, 2), 22: (1, 2, 1, 1),
    45: (4, 4, 1, 1), 49: (2, 2, 1, _ANY), 60: (3, 3, 1, 1), 64: (3, 3, 1, 1),
    65: (3, 3, 1, 1), 83: (1, _ANY, 1, 1), 85: (4, 4, 1, 1), 88: (1, 1, 1, _ANY),
    96: (3, 3, 1, 1), 102: (3, 3, 1, _ANY), 106: (1, _ANY, 1, 1), 119: (1, _ANY, 1, _ANY),
    123: (3, 3, 1, 1),
}
_WHILE = 119
# Control-flow operator code -> fields of its options holding subgraph indices.
_CALL_FIELDS = {118: (0, 1), 119: (0, 1), 129: (0,)}  # IF, WHILE, CALL_ONCE


_STRUCTS = {f: struct.Struct(f) for f in ("<b", "<B", "<H", "<i", "<I", "<q", "<Q", "<f")}


class _Bad(Exception):
    """Internal: the buffer is not the model it claims to be."""


class _Reader:
    """Bounds-checked reads of flatbuffer tables and vectors."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _unpack(self, fmt: str, pos: int) -> int:
        if pos < 0:
            raise _Bad(f"read at {pos} outside the {len(self.data)}-byte model")
        try:
            return _STRUCTS[fmt].unpack_from(self.data, pos)[0]
        except struct.error:
            raise _Bad(f"read at {pos} outside the {len(self.data)}-byte model") from None

    def root(self) -> int:
        return self._unpack("<I", 0)

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of field ``index`` of the table at ``table`` (None: absent)."""
        vtable = table - self._unpack("<i", table)
        vt_size = self._unpack("<H", vtable)
        if vt_size < 4 or vt_size % 2:
            raise _Bad(f"vtable size {vt_size}")
        slot = 4 + 2 * index
        if slot >= vt_size:
            return None
        offset = self._unpack("<H", vtable + slot)
        return table + offset if offset else None

    def scalar(self, table: int, index: int, fmt: str, default: int) -> int:
        pos = self.field(table, index)
        return default if pos is None else self._unpack(fmt, pos)

    def vector(self, table: int, index: int, item: int) -> tuple[int, int]:
        """``(start, length)`` of a vector field (``(0, 0)`` when absent)."""
        pos = self.field(table, index)
        if pos is None:
            return 0, 0
        vec = pos + self._unpack("<I", pos)
        n = self._unpack("<I", vec)
        if n * item > len(self.data) - vec - 4:
            raise _Bad(f"vector of {n} items runs past the end")
        return vec + 4, n

    def tables(self, table: int, index: int) -> list[int]:
        start, n = self.vector(table, index, 4)
        offsets = struct.unpack_from(f"<{n}I", self.data, start) if n else ()
        return [start + 4 * i + o for i, o in enumerate(offsets)]

    def ints(self, table: int, index: int) -> list[int]:
        return self.values(table, index, "<i")

    def values(self, table: int, index: int, fmt: str) -> list:
        """The items of a vector of scalars (``fmt``: one struct code, e.g. ``"<f"``)."""
        start, n = self.vector(table, index, struct.calcsize(fmt))
        return list(struct.unpack_from(f"{fmt[0]}{n}{fmt[1:]}", self.data, start)) if n else []

    def table(self, table: int, index: int) -> int | None:
        """Position of the sub-table in field ``index`` (None: absent)."""
        pos = self.field(table, index)
        return None if pos is None else pos + self._unpack("<I", pos)


def _tensor_bytes(r: _Reader, tensor: int, n_buffers: int) -> int:
    """Declared size of one tensor; _Bad for negative dims, unknown types, bad buffers."""
    dtype = r.scalar(tensor, 1, "<b", 0)
    if dtype not in _ITEM_BYTES:
        raise _Bad(f"unknown tensor type {dtype}")
    if r.scalar(tensor, 2, "<I", 0) >= max(n_buffers, 1):
        raise _Bad("tensor refers to a missing buffer")
    largest = 0
    for shape in (r.ints(tensor, 0), r.ints(tensor, 7)):
        n = _ITEM_BYTES[dtype]
        for dim in shape:
            if dim < -1:
                raise _Bad(f"negative dimension {dim}")
            n *= max(dim, 1)
        if n > MAX_TENSOR_BYTES:
            raise _Bad(f"a tensor of {n:,} bytes (limit {MAX_TENSOR_BYTES:,})")
        largest = max(largest, n)
    _check_quantization(r, r.table(tensor, 4))
    return largest


def _check_quantization(r: _Reader, quant: int | None) -> None:
    """Scales finite and within :data:`SCALE_RANGE`, zero points of integer size.

    Kernels derive fixed-point multipliers from the scales; an absurd scale (an edited
    ``0.015`` → ``8e-22``) aborts tflite-runtime 2.14 inside a CHECK.
    """
    if quant is None:
        return
    lo, hi = SCALE_RANGE
    if any(not lo <= x <= hi for x in r.values(quant, 2, "<f")):  # NaN fails too
        raise _Bad("a quantization scale outside [1e-15, 1e15]")
    if any(abs(z) > 65535 for z in r.values(quant, 3, "<q")):
        raise _Bad("a quantization zero point out of range")


def _check_indices(r: _Reader, subgraph: int, n_tensors: int, codes: list[int]) -> set[int]:
    """Tensor indices in range, operator codes that exist, operand counts kernels accept.

    Returns:
        The subgraphs its control-flow operators (WHILE, IF, CALL_ONCE) call.
    """
    called: set[int] = set()
    for field in (1, 2):  # the subgraph's inputs and outputs
        if any(not 0 <= i < n_tensors for i in r.ints(subgraph, field)):
            raise _Bad("a subgraph input or output refers to a missing tensor")
    for op in r.tables(subgraph, 3):
        index = r.scalar(op, 0, "<I", 0)
        if index >= len(codes):
            raise _Bad("an operator refers to a missing operator code")
        ins, outs = r.ints(op, 1), r.ints(op, 2)
        for indices in (ins, outs, r.ints(op, 8)):  # intermediates too; -1: optional input
            if any(not -1 <= i < n_tensors for i in indices):
                raise _Bad("an operator refers to a missing tensor")
        _check_arity(codes[index], len(ins), len(outs))
        if codes[index] in _CALL_FIELDS:
            options = r.field(op, 4)
            table = options + r._unpack("<I", options) if options is not None else None
            called |= {r.scalar(table, f, "<i", 0) if table is not None else 0
                       for f in _CALL_FIELDS[codes[index]]}
    return called


def _check_arity(code: int, n_in: int, n_out: int) -> None:
    lo_in, hi_in, lo_out, hi_out = _ARITY.get(code, (0, _ANY, 0, _ANY))
    if not (lo_in <= n_in <= hi_in and lo_out <= n_out <= hi_out) or (
            code == _WHILE and n_in != n_out):
        raise _Bad(f"operator code {code} has {n_in} inputs and {n_out} outputs")


def _op_codes(r: _Reader, model: int) -> list[int]:
    """Builtin code of every ``OperatorCode`` (the larger of the deprecated int8 field 0 and
    the int32 field 3)."""
    return [max(r.scalar(c, 0, "<b", 0), r.scalar(c, 3, "<i", 0)) for c in r.tables(model, 1)]


def check_model(model_bytes: bytes, origin: str) -> None:
    """Refuse a model whose tensors are malformed or implausibly large.

    Args:
        model_bytes: The TFLite flatbuffer (its checksum already matched).
        origin: Where it came from, for the message.

    Raises:
        ArtifactError: Unreadable structure, negative or oversized dimensions, an unknown
            tensor type or buffer, a tensor index or operator code out of range, or more
            than :data:`MAX_TOTAL_TENSOR_BYTES` in all.
    """
    r = _Reader(bytes(model_bytes))
    try:
        verify_structure(r.data)
        model = r.root()
        buffers = r.tables(model, 4)
        if any(r.scalar(b, 1, "<Q", 0) > 1 for b in buffers):
            raise _Bad("a buffer stored outside the flatbuffer")
        codes = _op_codes(r, model)
        subgraphs = r.tables(model, 2)
        all_tensors, total, calls = [], 0, {}
        for i, subgraph in enumerate(subgraphs):
            tensors = r.tables(subgraph, 0)
            all_tensors.append(tensors)
            total += sum(_tensor_bytes(r, t, len(buffers)) for t in tensors)
            calls[i] = _check_indices(r, subgraph, len(tensors), codes)
        if total > MAX_TOTAL_TENSOR_BYTES:
            raise _Bad(f"{total:,} bytes of tensors (limit {MAX_TOTAL_TENSOR_BYTES:,})")
        _check_calls(calls)
        _check_signatures(r, model, all_tensors)
    except (_Bad, StructureError) as exc:
        raise ArtifactError(f"{origin}: model.tflite is malformed ({exc})") from None


def _check_calls(calls: dict[int, set[int]]) -> None:
    """Control-flow operators call existing subgraphs, and no subgraph calls itself."""
    for caller, callees in calls.items():
        if any(c not in calls for c in callees):
            raise _Bad(f"subgraph {caller} calls a missing subgraph")
    done: set[int] = set()
    for start in calls:
        path, stack = set(), [(start, iter(sorted(calls[start])))]
        path.add(start)
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.discard(node)
                done.add(node)
            elif nxt in path:
                raise _Bad(f"subgraph {nxt} calls itself")
            elif nxt not in done:
                path.add(nxt)
                stack.append((nxt, iter(sorted(calls[nxt]))))


def _check_signatures(r: _Reader, model: int, tensors: list[list[int]]) -> None:
    """Every signature names an existing subgraph and numeric tensors inside it."""
    for sig in r.tables(model, 7):
        index = r.scalar(sig, 4, "<I", 0)
        if index >= len(tensors):
            raise _Bad("a signature refers to a missing subgraph")
        for field in (0, 1):
            for item in r.tables(sig, field):
                t = r.scalar(item, 1, "<I", 0)
                if t >= len(tensors[index]):
                    raise _Bad("a signature refers to a missing tensor")
                if r.scalar(tensors[index][t], 1, "<b", 0) not in _IO_TYPES:
                    raise _Bad("a signature tensor of a non-numeric type")
