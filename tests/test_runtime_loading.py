"""Loading: bad files, config/model mismatches, wrong kinds, backends, TF-free imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile

import pytest

from edge_attn.runtime import load_model
from edge_attn.runtime.artifact import read_artifact, write_artifact
from edge_attn.runtime.backend import get_backend
from edge_attn.runtime.classifier import TextClassifier, load_classifier
from edge_attn.runtime.errors import ArtifactError, BackendError, InputError
from edge_attn.runtime.translator import Translator


def _rewrite(src, dest, edit):
    """Copy an artifact with ``edit(config)`` applied (checksums stay valid)."""
    art = read_artifact(src)
    config = json.loads(json.dumps(art.config.to_dict()))
    edit(config)
    write_artifact(dest, art.model_bytes, config, art.tokenizers, art.validation)
    return dest


def test_load_model_dispatches_on_kind(tiny_artifacts):
    from edge_attn.runtime.classifier import TabularClassifier

    assert isinstance(load_model(tiny_artifacts["seq2seq"]), Translator)
    assert isinstance(load_model(tiny_artifacts["text"]), TextClassifier)
    assert isinstance(load_model(str(tiny_artifacts["tabular"])), TabularClassifier)


def test_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="no such artifact"):
        Translator(tmp_path / "nope.eatt")


def test_truncated_file(tiny_artifacts, tmp_path):
    data = tiny_artifacts["seq2seq"].read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}.eatt"
        bad.write_bytes(data[:cut])
        with pytest.raises(ArtifactError):
            Translator(bad)


def test_corrupt_model_bytes(tiny_artifacts, tmp_path):
    data = bytearray(tiny_artifacts["seq2seq"].read_bytes())
    with zipfile.ZipFile(tiny_artifacts["seq2seq"]) as zf:
        info = zf.getinfo("model.tflite")
    offset = info.header_offset + 30 + len(info.filename) + 2000
    data[offset] ^= 0xFF
    bad = tmp_path / "flip.eatt"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        Translator(bad)


def test_foreign_files(tmp_path):
    png = tmp_path / "x.eatt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ArtifactError, match="not an edge-attn artifact"):
        Translator(png)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ArtifactError, match="missing"):
        load_model(other)
    with pytest.raises(InputError):
        Translator(12345)


def test_config_signature_mismatch(tiny_artifacts, tmp_path):
    def rename(cfg):
        cfg["signatures"]["decode_step"]["inputs"]["state_x"] = {
            "shape": [-1, 16],
            "dtype": "float32",
        }

    with pytest.raises(ArtifactError, match="config does not match the model"):
        Translator(_rewrite(tiny_artifacts["seq2seq"], tmp_path / "a.eatt", rename))

    def dtype(cfg):
        cfg["signatures"]["encode"]["inputs"]["tokens"]["dtype"] = "int64"

    with pytest.raises(ArtifactError, match="dtype"):
        Translator(_rewrite(tiny_artifacts["seq2seq"], tmp_path / "b.eatt", dtype))

    def shape(cfg):
        cfg["signatures"]["encode"]["inputs"]["tokens"]["shape"] = [-1, 99]

    with pytest.raises(ArtifactError, match="shape"):
        Translator(_rewrite(tiny_artifacts["seq2seq"], tmp_path / "c.eatt", shape))

    def missing_sig(cfg):
        cfg["signatures"]["beam"] = cfg["signatures"]["encode"]

    with pytest.raises(ArtifactError, match="not in the model"):
        Translator(_rewrite(tiny_artifacts["seq2seq"], tmp_path / "d.eatt", missing_sig))


def test_contract_mismatches(tiny_artifacts, tmp_path):
    src = tiny_artifacts["seq2seq"]
    with pytest.raises(ArtifactError, match="max_source_len"):
        Translator(_rewrite(src, tmp_path / "a.eatt",
                            lambda c: c["seq2seq"].update(max_source_len=5)))
    with pytest.raises(ArtifactError, match="state"):
        Translator(
            _rewrite(
                src, tmp_path / "b.eatt",
                lambda c: c["seq2seq"].update(state_names=["state_h", "state_c"])
            )
        )
    with pytest.raises(ArtifactError, match="labels"):
        TextClassifier(
            _rewrite(tiny_artifacts["text"], tmp_path / "c.eatt",
                     lambda c: c["classifier"].update(labels=["a"]))
        )


def test_vocabulary_size_must_match_log_probs(tiny_artifacts, tmp_path):
    art = read_artifact(tiny_artifacts["seq2seq"])
    tokenizers = dict(art.tokenizers)
    tgt = dict(tokenizers["target"])
    tgt["vocab"] = tgt["vocab"] + ["extra"]
    tokenizers["target"] = tgt
    dest = write_artifact(tmp_path / "v.eatt", art.model_bytes, art.config.to_dict(), tokenizers)
    with pytest.raises(ArtifactError, match="vocabulary size"):
        Translator(dest)


def test_wrong_kind_is_an_input_error(tiny_artifacts):
    with pytest.raises(InputError, match="seq2seq model.*edge-attn translate"):
        TextClassifier(tiny_artifacts["seq2seq"])
    with pytest.raises(InputError, match="not a classifier"):
        load_classifier(tiny_artifacts["seq2seq"])
    with pytest.raises(InputError, match="text-classifier model.*edge-attn classify"):
        Translator(tiny_artifacts["text"])


def test_backend_choice(monkeypatch):
    assert get_backend("auto").name in ("ai-edge-litert", "tflite-runtime")
    with pytest.raises(InputError, match="unknown backend"):
        get_backend("tensorflow")
    monkeypatch.setenv("EDGE_ATTN_BACKEND", "bogus")
    with pytest.raises(InputError):
        get_backend()


def test_forced_missing_backend_is_a_backend_error(monkeypatch, tiny_artifacts):
    from edge_attn.runtime import backend as be

    monkeypatch.setattr(be, "_cache", {})
    monkeypatch.setattr(be, "_try_import", lambda name: None)
    for name in ("ai-edge-litert", "tflite-runtime"):
        with pytest.raises(BackendError, match="pip install"):
            Translator(tiny_artifacts["seq2seq"], backend=name)
    with pytest.raises(BackendError, match="pip install ai-edge-litert"):
        get_backend("auto")


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_runtime_works_with_tensorflow_blocked(tiny_artifacts):
    """A clean interpreter (a subprocess is the only way) with TF and Keras unimportable."""
    proc = _run_python(f"""
        import sys
        sys.modules["tensorflow"] = None
        sys.modules["keras"] = None
        import edge_attn.runtime as rt
        assert "edge_attn.runtime.backend" not in sys.modules, "backend imported eagerly"
        t = rt.load_model({str(tiny_artifacts["seq2seq"])!r})
        print(t.translate("the 3rd of March, 2021")[0].ids)
        c = rt.load_model({str(tiny_artifacts["text"])!r})
        print(c.predict("the 3rd of March, 2021")[0].label)
        bad = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")
               and sys.modules[m] is not None]
        assert not bad, bad
    """)
    assert proc.returncode == 0, proc.stderr
    want = tiny_artifacts["expected"]["seq2seq_greedy"]["the 3rd of March, 2021"]
    assert proc.stdout.splitlines()[0] == str(want)
