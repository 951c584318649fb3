"""Seeded mutations of an artifact's bytes for the fuzz run (benchmarks/fuzz.py).

Every mutation is a pure function of ``(artifact bytes, kind, seed)``, so a failure is
reproduced from its kind and seed alone. Kinds:

* ``flip-any`` — 1 to 8 bit flips anywhere in the file;
* ``flip-<member>`` — bit flips inside one member's stored bytes (the zip CRC no longer
  matches);
* ``flip-local-header`` / ``flip-central-dir`` — bit flips in a member's local header or in
  the central directory and end record;
* ``truncate`` — the file cut short; ``zero-run`` — a run of bytes set to zero;
* ``json-config`` / ``json-tokenizers`` / ``json-validation`` — one JSON member parsed,
  edited (a value of another JSON type, a missing key, an extra key, a huge number, a bad
  vocabulary) and re-zipped with valid CRCs (the model's sha256 untouched, so it matches);
* ``model-rechecksum`` — bit flips inside ``model.tflite`` with ``model_sha256`` recomputed:
  a deliberate edit that only the interpreter's own checks can catch.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import struct
import zipfile
from typing import Any

MEMBERS = ("config.json", "tokenizers.json", "validation.json", "model.tflite")
MEMBER_KINDS = {f"flip-{m.split('.')[0]}": m for m in MEMBERS}
JSON_KINDS = {"json-config": "config.json", "json-tokenizers": "tokenizers.json",
              "json-validation": "validation.json"}
KINDS = ("flip-any", *MEMBER_KINDS, "flip-local-header", "flip-central-dir", "truncate",
         "zero-run", *JSON_KINDS, "model-rechecksum")
EDITED_MODEL_KINDS = ("model-rechecksum",)  # different outputs are allowed (a new model)

_ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2, 0.5, -0.0, 2**31, 2**63, 10**30, -(2**31), 1e308, -1e308,
    "", "x", "<eos>", "\u0000", "é" * 3, [], {}, [0], [1, 2, 3], ["a", "a"], {"a": 1},
    {"type": "word"}, [[]], "float32", "int8", "seq2seq",
)
_HUGE_NUMBERS = (2**31, 2**31 - 1, 2**32, 2**63, 2**64, 10**30, 10**300, 1e308, -(2**63), -1,
                 0, 10**6, 10**9)


def member_spans(data: bytes) -> dict[str, tuple[int, int, int]]:
    """``{name: (local header offset, data offset, data length)}`` of a well-formed zip."""
    spans = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + n + m
            spans[info.filename] = (info.header_offset, start, info.file_size)
    return spans


def central_dir_offset(data: bytes) -> int:
    """Where the central directory starts (from the end-of-central-directory record)."""
    eocd = data.rfind(b"PK\x05\x06")
    return struct.unpack_from("<L", data, eocd + 16)[0]


def _flip(buf: bytearray, rng: random.Random, lo: int, hi: int, n: int) -> None:
    for _ in range(n):
        pos = rng.randrange(lo, max(hi, lo + 1))
        buf[pos] ^= 1 << rng.randrange(8)


def rezip(members: dict[str, bytes]) -> bytes:
    """A stored zip of ``members`` in the artifact's order, with valid CRCs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name in MEMBERS:
            if name in members:
                zf.writestr(name, members[name])
    return out.getvalue()


def read_members(data: bytes) -> dict[str, bytes]:
    """Every member of a well-formed zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _pick_path(tree: Any, rng: random.Random) -> list[Any]:
    """A random path of keys/indices into ``tree`` (never empty when the root has children)."""
    path: list[Any] = []
    node = tree
    while isinstance(node, (dict, list)) and node:
        if path and rng.random() < 0.35:
            break
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    return path


def _vocab_lists(tree: Any, path: list[Any] | None = None) -> list[list[Any]]:
    """Paths of every list under a ``vocab``-like key."""
    path = path or []
    found = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if isinstance(v, list) and ("vocab" in k or "pieces" in k or "labels" in k):
                found.append([*path, k])
            found += _vocab_lists(v, [*path, k])
    return found


def _get(tree: Any, path: list[Any]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _bad_vocab(tree: Any, rng: random.Random) -> str:
    paths = _vocab_lists(tree)
    if not paths:
        return "no-vocab"
    vocab = _get(tree, rng.choice(paths))
    op = rng.choice(("dup", "empty", "number", "truncate", "extend", "null", "drop"))
    i = rng.randrange(len(vocab)) if vocab else 0
    if op == "dup" and len(vocab) > 1:
        vocab[i] = vocab[(i + 1) % len(vocab)]
    elif op == "empty" and vocab:
        vocab[i] = ""
    elif op == "number" and vocab:
        vocab[i] = rng.choice((0, 1.5, -1, 2**63))
    elif op == "truncate":
        del vocab[rng.randrange(len(vocab) + 1):]
    elif op == "extend":
        vocab.extend(f"zz{j}" for j in range(rng.choice((1, 7, 5000))))
    elif op == "null" and vocab:
        vocab[i] = None
    elif vocab:
        del vocab[i]
    return f"vocab-{op}"


def edit_json(tree: Any, rng: random.Random) -> str:
    """Apply one random structural edit to ``tree`` in place; returns a short description."""
    op = rng.choice(("retype", "delete", "extra", "huge", "vocab", "retype", "delete"))
    if op == "vocab":
        return _bad_vocab(tree, rng)
    path = _pick_path(tree, rng)
    if op == "extra" or not path:
        target = _get(tree, path[:-1]) if path else tree
        if isinstance(target, dict):
            target[f"zz_extra_{rng.randrange(100)}"] = rng.choice(_ODD_VALUES)
            return "extra-key"
        return "extra-none"
    parent, key = _get(tree, path[:-1]), path[-1]
    if op == "delete":
        del parent[key]
        return f"delete-{key}"
    if op == "huge":
        parent[key] = rng.choice(_HUGE_NUMBERS)
        return f"huge-{key}"
    was = _json_type(parent[key])
    parent[key] = rng.choice([v for v in _ODD_VALUES if _json_type(v) != was])
    return f"retype-{key}"


def _json_type(value: Any) -> str:
    """The JSON type of ``value`` (ints and floats are both numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _json_edit(data: bytes, member: str, rng: random.Random) -> tuple[bytes, str]:
    members = read_members(data)
    if member not in members:
        return data, "absent"
    tree = json.loads(members[member])
    if rng.random() < 0.05:  # the whole member replaced by a bare value
        tree, what = rng.choice((7, [1, 2], "x", None, 1e308)), "bare"
    else:
        what = edit_json(tree, rng)
    members[member] = json.dumps(tree).encode()
    return rezip(members), what


def _rechecksum(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    members = read_members(data)
    model = bytearray(members["model.tflite"])
    n = rng.choice((1, 1, 2, 4, 16))
    _flip(model, rng, 0, len(model), n)
    config = json.loads(members["config.json"])
    config["model_sha256"] = hashlib.sha256(bytes(model)).hexdigest()
    members["model.tflite"] = bytes(model)
    members["config.json"] = json.dumps(config).encode()
    return rezip(members), f"{n}-bits"


def mutate(data: bytes, kind: str, seed: int) -> tuple[bytes, str]:
    """The mutated artifact and a short description of what changed.

    Args:
        data: A well-formed artifact.
        kind: One of :data:`KINDS`.
        seed: Makes the mutation reproducible.
    """
    rng = random.Random(f"{kind}:{seed}")
    buf = bytearray(data)
    if kind == "flip-any":
        n = rng.randint(1, 8)
        _flip(buf, rng, 0, len(buf), n)
        return bytes(buf), f"{n}-bits"
    if kind in MEMBER_KINDS:
        _, start, size = member_spans(data)[MEMBER_KINDS[kind]]
        _flip(buf, rng, start, start + size, rng.randint(1, 4))
        return bytes(buf), "bits"
    if kind == "flip-local-header":
        name, (hdr, start, _) = rng.choice(sorted(member_spans(data).items()))
        _flip(buf, rng, hdr, start, rng.randint(1, 3))
        return bytes(buf), name
    if kind == "flip-central-dir":
        _flip(buf, rng, central_dir_offset(data), len(buf), rng.randint(1, 3))
        return bytes(buf), "bits"
    if kind == "truncate":
        cut = rng.randrange(len(buf))
        return bytes(buf[:cut]), f"at-{cut}"
    if kind == "zero-run":
        start = rng.randrange(len(buf))
        n = rng.choice((1, 4, 16, 64, 512, 4096))
        buf[start:start + n] = bytes(len(buf[start:start + n]))
        return bytes(buf), f"{n}-bytes"
    if kind in JSON_KINDS:
        return _json_edit(data, JSON_KINDS[kind], rng)
    if kind == "model-rechecksum":
        return _rechecksum(data, rng)
    raise ValueError(f"unknown mutation kind {kind!r}")
