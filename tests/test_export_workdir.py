"""Temporary files of exports: beside the output, removed at the end, and what a killed
export left is removed by the next export into the same folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from edge_attn.export import workdir
from edge_attn.export.workdir import export_workdir, remove_stale
from edge_attn.runtime.artifact import read_artifact
from edge_attn.runtime.errors import ExportError

NATIVE_NOISE = ("XNNPACK delegate", "absl::InitializeLog", "oneDNN", "fully_quantize",
                "INFO:", "W0000", "I0000")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _leftovers(folder: Path, pid: int) -> list[Path]:
    """What a killed export with ``pid`` leaves: its work folder and its artifact temp file."""
    work = folder / f".edge-attn-export-o.eatt.{pid}.tmp"
    (work / "saved_model" / "variables").mkdir(parents=True)
    (work / "saved_model" / "saved_model.pb").write_bytes(b"x" * 1000)
    part = folder / f".o.eatt.{pid}.k3j_9xq2.tmp"
    part.write_bytes(b"PK\x03\x04partial")
    return [work, part]


def test_stale_entries_of_dead_processes_are_removed(tmp_path):
    dead = _leftovers(tmp_path, _dead_pid())
    running = tmp_path / f".edge-attn-export-x.eatt.{os.getppid()}.tmp"  # a live process
    running.mkdir()
    unrelated = [tmp_path / "o.eatt", tmp_path / ".hidden.tmp", tmp_path / ".o.eatt.tmp"]
    for p in unrelated:
        p.write_text("keep")
    removed = remove_stale(tmp_path)
    assert set(dead) <= set(removed) and not any(p.exists() for p in dead)
    assert running.is_dir() and all(p.exists() for p in unrelated)


def test_old_entries_of_live_pids_are_removed(tmp_path):
    """A live pid may be a reused one: entries older than STALE_HOURS go anyway."""
    entries = _leftovers(tmp_path, os.getppid())
    assert remove_stale(tmp_path) == [] and all(p.exists() for p in entries)
    old = time.time() - (workdir.STALE_HOURS + 1) * 3600
    for p in entries:
        os.utime(p, (old, old))
    remove_stale(tmp_path)
    assert not any(p.exists() for p in entries)


def test_legacy_leftovers_once_old(tmp_path, monkeypatch):
    """Older versions left pid-less names: removed only once older than STALE_HOURS."""
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "systmp"))
    legacy = tmp_path / "systmp" / "edge-attn-export-abc123"
    fresh = tmp_path / "systmp" / "edge-attn-export-def456"
    for p in (legacy, fresh):
        p.mkdir(parents=True)
    (tmp_path / "out").mkdir()
    old_part = tmp_path / "out" / ".o.eatt.ab12cd34.tmp"
    new_part = tmp_path / "out" / ".p.eatt.ef56gh78.tmp"
    for p in (old_part, new_part):
        p.write_bytes(b"PK")
    old = time.time() - (workdir.STALE_HOURS + 1) * 3600
    for p in (legacy, old_part):
        os.utime(p, (old, old))
    remove_stale(tmp_path / "out")
    assert not legacy.exists() and fresh.exists()
    assert not old_part.exists() and new_part.exists()


def test_export_workdir_is_beside_the_output_and_removed(tmp_path):
    stale = _leftovers(tmp_path, _dead_pid())
    with export_workdir(tmp_path / "o.eatt") as work:
        assert work.parent == tmp_path and work.is_dir()
        assert work.name == f".edge-attn-export-o.eatt.{os.getpid()}.tmp"
        assert not any(p.exists() for p in stale)
        (work / "saved_model").mkdir()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), export_workdir(tmp_path / "o.eatt") as work:
        raise RuntimeError("conversion failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match="does not exist"):
        with export_workdir(tmp_path / "missing" / "o.eatt"):
            pass


def _edge_attn() -> str:
    return str(Path(sys.executable).parent / "edge-attn")


def test_killed_export_leftovers_are_removed_by_the_next_export(pipeline, tmp_path):
    """SIGKILL a real export once its work folder exists; the next export cleans up, writes
    the artifact, and its stderr carries none of TensorFlow's start-up noise."""
    out = tmp_path / "o.eatt"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    cmd = [_edge_attn(), "export", str(pipeline["tabular_ckpt"]), "-o", str(out)]
    log = tmp_path.parent / f"{tmp_path.name}-export.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    deadline = time.monotonic() + 240
    work = tmp_path / f".edge-attn-export-o.eatt.{proc.pid}.tmp"
    while not work.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert work.is_dir(), (f"the export ended (exit {proc.returncode}) before its work "
                           f"folder appeared: {log.read_text(errors='replace')[-800:]}")
    part = tmp_path / f".o.eatt.{proc.pid}.x1y2z3w4.tmp"  # as if killed while writing
    part.write_bytes(b"PK\x03\x04partial")
    assert not out.exists()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.eatt"]
    assert read_artifact(out).kind == "tabular-classifier"
    assert not any(n in done.stderr for n in NATIVE_NOISE), done.stderr
    assert done.stdout.startswith("wrote ")
