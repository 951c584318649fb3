"""Hostile artifacts: zip tricks, zip bombs, wrong JSON, edited models — each one ArtifactError.

Every case is checked through ``read_artifact`` (typed error, one line) and a few through the
CLI (one ``error:`` line, exit 1, no traceback). The zip-bomb case also runs in a child
process whose peak RSS is measured.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import MAX_MODEL_BYTES, read_artifact, sha256_hex
from edge_attn.runtime.errors import ArtifactError
from edge_attn.runtime.flatbuffer import _Reader

GIB = 1 << 30


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _raw_zip(entries: list[tuple[str, int, int, bytes, int, int]]) -> bytes:
    """A zip from ``(name, method, flags, stored bytes, crc, uncompressed size)`` entries,
    written by hand so that any field can lie."""
    out, central = bytearray(), bytearray()
    for name, method, flags, body, crc, size in entries:
        raw = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0, crc,
                               len(body), size, len(raw), 0, 0, 0, 0, 0, len(out)) + raw
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0, crc,
                           len(body), size, len(raw), 0) + raw + body
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                       len(central), len(out), 0)
    return bytes(out + central + eocd)


def _stored(members: dict[str, bytes]) -> list[tuple[str, int, int, bytes, int, int]]:
    return [(n, 0, 0, b, zlib.crc32(b), len(b)) for n, b in members.items()]


def _bomb_member(size: int = GIB) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (about 1 MB per GiB) and its CRC-32."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # identical for every later MiB
    data = first + again * (size // len(block) - 1) + c.flush()
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    return data, crc


@pytest.fixture(scope="module")
def members(tiny_artifacts) -> dict[str, bytes]:
    return _members(tiny_artifacts["seq2seq"])


def _refused(data: bytes, match: str) -> str:
    with pytest.raises(ArtifactError, match=match) as info:
        read_artifact(data)
    message = str(info.value)
    assert "\n" not in message and message.startswith("<bytes>: ")
    return message


def test_well_formed_hand_written_zip_loads(members):
    art = read_artifact(_raw_zip(_stored(members)))
    assert art.model_bytes == members[C.MODEL_MEMBER]


def test_compressed_member_is_refused(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body, zipfile.ZIP_DEFLATED if name == C.CONFIG_MEMBER
                        else zipfile.ZIP_STORED)
    _refused(out.getvalue(), "config.json is compressed .method 8.; artifacts store")
    for method in (12, 14, 93, 99):  # bzip2, lzma, zstd, AES: zipfile raises otherwise
        entries = _stored(members)
        name, _, flags, body, crc, size = entries[0]
        entries[0] = (name, method, flags, body, crc, size)
        _refused(_raw_zip(entries), f"compressed .method {method}.")


def test_encrypted_member_is_refused(members):
    entries = [(n, m, 0x1 if n == C.MODEL_MEMBER else f, b, c, s)
               for n, m, f, b, c, s in _stored(members)]
    _refused(_raw_zip(entries), "model.tflite is encrypted")


def test_corrupt_central_directory_offset(members):
    good = bytearray(_raw_zip(_stored(members)))
    eocd = good.rfind(b"PK\x05\x06")
    for offset in (0, 7, len(good) - 30, 2**32 - 1):
        bad = bytearray(good)
        struct.pack_into("<L", bad, eocd + 16, offset)
        _refused(bytes(bad), "not a zip archive|corrupt artifact|not an edge-attn artifact")


def test_bad_local_headers(members):
    good = _raw_zip(_stored(members))
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        model = zf.getinfo(C.MODEL_MEMBER)
    for field_offset, value in ((0, b"XX\x03\x04"), (8, b"\x08\x00"), (6, b"\x01\x00"),
                                (26, b"\xff\xff")):
        bad = bytearray(good)
        pos = model.header_offset + field_offset
        bad[pos:pos + len(value)] = value
        _refused(bytes(bad), "corrupt artifact")


def test_duplicate_member_names(members):
    entries = _stored(members)
    entries.append(_stored({C.CONFIG_MEMBER: b'{"format": "other"}'})[0])
    _refused(_raw_zip(entries), "duplicate member 'config.json'")


def test_declared_sizes_beyond_the_caps_or_the_file(members):
    entries = _stored(members)
    i = [e[0] for e in entries].index(C.MODEL_MEMBER)
    name, method, flags, body, crc, _ = entries[i]
    entries[i] = (name, method, flags, body, crc, MAX_MODEL_BYTES + 1)
    _refused(_raw_zip(entries), "more than the 536,870,912-byte limit")
    entries[i] = (name, method, flags, body, crc, 100 * len(body))
    _refused(_raw_zip(entries), "corrupt artifact .model.tflite declares")
    j = [e[0] for e in entries].index(C.TOKENIZERS_MEMBER)
    entries = _stored(members)
    name, method, flags, body, crc, _ = entries[j]
    entries[j] = (name, 8, flags, body, crc, 65 * 1024 * 1024)
    _refused(_raw_zip(entries), "tokenizers.json is compressed")


def test_zip_bomb_is_refused_without_inflating(members):
    bomb, crc = _bomb_member()
    entries = [e for e in _stored(members) if e[0] != C.MODEL_MEMBER]
    entries.append((C.MODEL_MEMBER, 8, 0, bomb, crc, GIB))
    data = _raw_zip(entries)
    assert len(data) < 2 * 1024 * 1024
    message = _refused(data, "model.tflite is compressed")
    assert "uncompressed" in message


def test_zip_bomb_peak_rss_in_a_child(members, tmp_path):
    """A 1 MB file that inflates to 1 GiB is refused with a small peak RSS (child process)."""
    bomb, crc = _bomb_member()
    entries = [e for e in _stored(members) if e[0] != C.MODEL_MEMBER]
    entries.append((C.MODEL_MEMBER, 8, 0, bomb, crc, GIB))
    path = tmp_path / "bomb.eatt"
    path.write_bytes(_raw_zip(entries))
    with zipfile.ZipFile(path) as zf:  # it really is a bomb: zipfile would inflate 1 GiB
        assert zf.getinfo(C.MODEL_MEMBER).file_size == GIB
    code = textwrap.dedent(f"""
        import resource, sys
        from edge_attn.runtime.artifact import read_artifact
        from edge_attn.runtime.errors import ArtifactError
        try:
            read_artifact({str(path)!r})
        except ArtifactError as exc:
            print("refused:", exc)
        """)
    # Linux counts a forked child's pre-exec memory (this whole pytest process) in its
    # ru_maxrss: a small launcher (python -S) spawns the reader and reports its wait4 usage.
    launcher = textwrap.dedent("""
        import os, sys
        pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
        """)
    proc = subprocess.run([sys.executable, "-S", "-c", launcher, sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[0].startswith("refused:"), proc.stdout + proc.stderr
    code_, peak_kib = (int(v) for v in lines[-1].split())
    assert code_ == 0
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB refusing a zip bomb"


@pytest.mark.parametrize("value", [7, [1, 2], "x", None, 1e300, {"source": 3}])
def test_tokenizers_json_of_the_wrong_shape(members, value):
    bad = dict(members, **{C.TOKENIZERS_MEMBER: json.dumps(value).encode()})
    _refused(_raw_zip(_stored(bad)), "tokenizers.json")


@pytest.mark.parametrize("member", [C.CONFIG_MEMBER, C.VALIDATION_MEMBER])
@pytest.mark.parametrize("text", ["[1, 2]", "42", '"x"', "{\"a\": NaN}", "[" * 100000, "{"])
def test_config_and_validation_json_of_the_wrong_shape(members, member, text):
    bad = dict(members, **{member: text.encode()})
    _refused(_raw_zip(_stored(bad)), "config" if member == C.CONFIG_MEMBER else member)


def _edit_first_shape(model: bytes, dim: int) -> bytes:
    """The model with its first tensor's first dimension set to ``dim``."""
    r = _Reader(model)
    subgraph = r.tables(r.root(), 2)[0]
    tensors = r.tables(subgraph, 0)
    tensor = next(t for t in tensors if r.ints(t, 0))
    start, _ = r.vector(tensor, 0, 4)
    out = bytearray(model)
    struct.pack_into("<i", out, start, dim)
    return bytes(out)


@pytest.mark.parametrize("dim", [2**30, -7])
def test_rechecksummed_model_with_absurd_shapes(members, dim):
    model = _edit_first_shape(members[C.MODEL_MEMBER], dim)
    config = json.loads(members[C.CONFIG_MEMBER])
    config["model_sha256"] = sha256_hex(model)
    bad = dict(members, **{C.MODEL_MEMBER: model, C.CONFIG_MEMBER: json.dumps(config).encode()})
    _refused(_raw_zip(_stored(bad)), "model.tflite is malformed")


def test_cli_reports_hostile_files_in_one_line(cli_main, members, tmp_path):
    entries = [(n, m, 0x1 if n == C.CONFIG_MEMBER else f, b, c, s)
               for n, m, f, b, c, s in _stored(members)]
    path = tmp_path / "enc.eatt"
    path.write_bytes(_raw_zip(entries))
    for args in (["inspect", str(path)], ["translate", "-m", str(path), "hi"]):
        res = CliRunner().invoke(cli_main, args)
        assert res.exit_code == 1, res.output
        assert res.output.startswith("error: ") and res.output.count("\n") == 1
        assert "encrypted" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("labels", [["a", "a", "b", "c"], ["", "b", "c", "d"]])
def test_empty_or_duplicate_labels(cli_main, tiny_artifacts, labels, tmp_path):
    text = _members(tiny_artifacts["text"])
    config = json.loads(text[C.CONFIG_MEMBER])
    part = config["classifier"] if "classifier" in config else config
    part["labels"] = labels
    path = tmp_path / "labels.eatt"
    path.write_bytes(_raw_zip(_stored(dict(text, **{C.CONFIG_MEMBER: json.dumps(config)
                                                       .encode()}))))
    with pytest.raises(ArtifactError, match="labels"):
        read_artifact(path)
    res = CliRunner().invoke(cli_main, ["classify", "-m", str(path), "hello"])
    assert res.exit_code == 1 and res.output.startswith("error: ") and "labels" in res.output
    assert res.output.count("\n") == 1
