"""A FlatBuffers verifier for the parts of the TFLite schema an interpreter reads.

ai-edge-litert runs the FlatBuffers verifier before building an interpreter; tflite-runtime
2.14 does not, and a model whose offsets point outside the buffer crashes it (a segfault
while building the interpreter). This is the same check in pure Python: every table's
vtable and fields, every vector and string, and every nested table lie inside the buffer;
strings end in NUL; nesting is bounded. Unions of operator options are checked as tables
(with their vector fields where the schema has any); StableHLO options (``builtin_options_2``)
and sparse tensors, which edge-attn never writes, are refused.

Field numbers follow tensorflow/lite/schema/schema.fbs (field ``n`` is vtable slot ``n``).
"""

from __future__ import annotations

import struct

MAX_DEPTH = 32
MAX_TABLES = 1_000_000

# A field: a scalar size in bytes (1, 2, 4, 8), "str", ("vec", item bytes), ("vtab", table)
# for a vector of tables, ("tab", table), ("options", type field) or "refuse".
_VEC4, _VEC1 = ("vec", 4), ("vec", 1)
SCHEMA: dict[str, dict[int, object]] = {
    "Model": {0: 4, 1: ("vtab", "OperatorCode"), 2: ("vtab", "SubGraph"), 3: "str",
              4: ("vtab", "Buffer"), 5: _VEC4, 6: ("vtab", "Metadata"),
              7: ("vtab", "SignatureDef")},
    "OperatorCode": {0: 1, 1: "str", 2: 4, 3: 4},
    "SubGraph": {0: ("vtab", "Tensor"), 1: _VEC4, 2: _VEC4, 3: ("vtab", "Operator"),
                 4: "str", 5: 4},
    "Tensor": {0: _VEC4, 1: 1, 2: 4, 3: "str", 4: ("tab", "Quantization"), 5: 1,
               6: "refuse", 7: _VEC4, 8: 1, 9: ("vtab", "VariantSubType")},
    "Quantization": {0: _VEC4, 1: _VEC4, 2: _VEC4, 3: ("vec", 8), 4: 1,
                     5: ("tab", "CustomQuantization"), 6: 4},
    "CustomQuantization": {0: _VEC1},
    "VariantSubType": {0: _VEC4, 1: 1, 2: 1},
    "Operator": {0: 4, 1: _VEC4, 2: _VEC4, 3: 1, 4: ("options", 3), 5: _VEC1, 6: 1,
                 7: _VEC1, 8: _VEC4, 9: 8, 10: 8, 11: 1, 12: "refuse"},
    "Buffer": {0: _VEC1, 1: 8, 2: 8},
    "Metadata": {0: "str", 1: 4},
    "SignatureDef": {0: ("vtab", "TensorMap"), 1: ("vtab", "TensorMap"), 2: "str", 3: "str",
                     4: 4},
    "TensorMap": {0: "str", 1: 4},
}
# BuiltinOptions type -> the option table's non-scalar fields (all others are scalars).
OPTION_FIELDS: dict[int, dict[int, object]] = {
    3: {1: _VEC4, 2: _VEC4},  # ConcatEmbeddingsOptions
    17: {0: _VEC4},  # ReshapeOptions.new_shape
    30: {0: _VEC4},  # SqueezeOptions.squeeze_dims
    111: {0: "str", 1: "str"},  # VarHandleOptions
    115: {0: _VEC4},  # BucketizeOptions.boundaries
}


_STRUCTS = {f: struct.Struct(f) for f in ("<B", "<H", "<i", "<I")}


class StructureError(Exception):
    """The buffer is not a well-formed TFLite flatbuffer."""


class Verifier:
    """Walks the flatbuffer from its root; raises :class:`StructureError` at the first fault.

    Args:
        data: The flatbuffer.
    """

    def __init__(self, data: bytes) -> None:
        self.data, self.size, self.tables = data, len(data), 0

    def _u(self, fmt: str, pos: int) -> int:
        if pos < 0:
            raise StructureError(f"offset {pos} outside the {self.size}-byte model")
        try:
            return _STRUCTS[fmt].unpack_from(self.data, pos)[0]
        except struct.error:
            raise StructureError(f"offset {pos} outside the {self.size}-byte model") from None

    def verify(self) -> None:
        """Verify the whole model (the root table is a ``Model``)."""
        if self.size < 8 or self.size >= 2**31:
            raise StructureError(f"a {self.size}-byte buffer is not a model")
        self.table(self._u("<I", 0), "Model", 0)

    def table(self, pos: int, name: str, depth: int,
              fields: dict[int, object] | None = None) -> None:
        """One table at ``pos`` of schema ``name`` (or explicit ``fields``)."""
        self.tables += 1
        if depth > MAX_DEPTH or self.tables > MAX_TABLES:
            raise StructureError("tables nested too deeply or too many")
        vtable = pos - self._u("<i", pos)
        vt_size, t_size = self._u("<H", vtable), self._u("<H", vtable + 2)
        if vt_size < 4 or vt_size % 2 or vtable + vt_size > self.size:
            raise StructureError(f"bad vtable at {vtable}")
        if t_size < 4 or pos + t_size > self.size:
            raise StructureError(f"table at {pos} runs past the end")
        schema = SCHEMA[name] if fields is None else fields
        for slot in range((vt_size - 4) // 2):
            offset = self._u("<H", vtable + 4 + 2 * slot)
            if not offset:
                continue
            kind = schema.get(slot, 1 if fields is not None else None)
            width = kind if isinstance(kind, int) else 1 if kind is None else 4
            if offset < 4 or offset + width > t_size:
                raise StructureError(f"field {slot} outside its table at {pos}")
            if kind is not None and not isinstance(kind, int):
                self.field(pos, pos + offset, kind, depth)

    def field(self, table: int, pos: int, kind: object, depth: int) -> None:
        """A non-scalar field stored at ``pos`` of the table at ``table``."""
        if kind == "refuse":
            raise StructureError("a feature edge-attn models never use (sparse tensor or "
                                 "StableHLO options)")
        if kind == "str":
            self.vector(pos, 1, terminated=True)
        elif kind[0] == "vec":
            self.vector(pos, kind[1])
        elif kind[0] == "tab":
            self.table(pos + self._u("<I", pos), kind[1], depth + 1)
        elif kind[0] == "vtab":
            start, n = self.vector(pos, 4)
            for i in range(n):
                item = start + 4 * i
                self.table(item + self._u("<I", item), kind[1], depth + 1)
        else:  # ("options", type slot): a union of option tables
            kind_pos = self._field_pos(table, kind[1])
            option = self._u("<B", kind_pos) if kind_pos else 0
            if option:
                self.table(pos + self._u("<I", pos), "", depth + 1,
                           OPTION_FIELDS.get(option, {}))

    def _field_pos(self, table: int, slot: int) -> int:
        vtable = table - self._u("<i", table)
        if 4 + 2 * slot >= self._u("<H", vtable):
            return 0
        offset = self._u("<H", vtable + 4 + 2 * slot)
        return table + offset if offset else 0

    def vector(self, pos: int, item: int, terminated: bool = False) -> tuple[int, int]:
        """``(start, length)`` of the vector whose offset is stored at ``pos``."""
        vec = pos + self._u("<I", pos)
        n = self._u("<I", vec)
        end = vec + 4 + n * item
        if end + int(terminated) > self.size:
            raise StructureError(f"vector of {n} items at {vec} runs past the end")
        if terminated and self.data[end] != 0:
            raise StructureError(f"string at {vec} is not terminated")
        return vec + 4, n


def verify_structure(data: bytes) -> None:
    """Raise :class:`StructureError` unless ``data`` is a well-formed TFLite flatbuffer."""
    Verifier(data).verify()
