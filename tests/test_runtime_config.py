"""The typed artifact config (runtime/config.py): every field checked and named, round trips,
version-1 artifacts (the bundled model) still load, and the load-time cross-checks."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import read_artifact, write_artifact
from edge_attn.runtime.config import ArtifactConfig, upgrade_v1
from edge_attn.runtime.errors import ArtifactError

BUNDLED = Path(__file__).resolve().parent.parent / "runtime" / "models" / "dates-int8.eatt"


def _bundled_raw() -> dict:
    with zipfile.ZipFile(BUNDLED) as zf:
        return json.loads(zf.read(C.CONFIG_MEMBER))


@pytest.fixture(scope="module")
def v2() -> dict:
    """A version-2 seq2seq config dict (the bundled model's, upgraded)."""
    return ArtifactConfig.from_dict(_bundled_raw(), "bundled").to_dict()


def _classifier(kind: str, **part) -> dict:
    raw = json.loads(json.dumps(ArtifactConfig.from_dict(_bundled_raw()).to_dict()))
    raw.pop("seq2seq")
    raw["kind"] = kind
    raw["classifier"] = part
    return raw


def _set(d: dict, path: str, value) -> dict:
    d = copy.deepcopy(d)
    *parents, last = path.split(".")
    node = d
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return d


_DELETE = object()

# (field path, bad value) -> the field named in the message
BAD_FIELDS = [
    ("kind", "transformer"), ("kind", 3), ("quantization", "int3"), ("quantization", None),
    ("model_sha256", "abc"), ("model_sha256", 12), ("model_bytes", -1), ("model_bytes", "9"),
    ("model_bytes", True), ("package_version", 2), ("signatures", []), ("signatures", {}),
    ("signatures.encode.inputs", [1]), ("signatures.encode.inputs.tokens.shape", "x"),
    ("signatures.encode.inputs.tokens.shape", [-2, 7]),
    ("signatures.encode.inputs.tokens.dtype", 5), ("model", "x"), ("training", 7),
    ("seq2seq", "x"), ("seq2seq.max_source_len", 0), ("seq2seq.max_source_len", 7.5),
    ("seq2seq.max_target_len", "6"), ("seq2seq.state_names", []),
    ("seq2seq.state_names", ["h"]), ("seq2seq.state_names", ["state_h", "state_h"]),
    ("seq2seq.state_names", "state_h"), ("seq2seq.source", None),
    ("seq2seq.source.vocab_size", 2), ("seq2seq.source.vocab_size", "369"),
    ("seq2seq.source.vocab_size", _DELETE), ("seq2seq.target.vocab_size", None),
    ("seq2seq.source.add_bos", "no"), ("seq2seq.source.add_eos", 1),
    ("seq2seq.target.special_ids", [0, 1, 2, 3]), ("seq2seq.target.special_ids.eos", -1),
    ("seq2seq.target.special_ids.bos", 0), ("seq2seq.source.special_ids.pad", 999),
    ("surprise", 1),
]


@pytest.mark.parametrize(("path", "value"), BAD_FIELDS)
def test_from_dict_names_the_wrong_field(v2: dict, path: str, value) -> None:
    with pytest.raises(ArtifactError) as err:
        ArtifactConfig.from_dict(_set(v2, path, value), "x.eatt")
    message = str(err.value)
    assert message.startswith("x.eatt: ")
    named = path if path.count(".") < 3 or "signatures" not in path else path.rsplit(".", 1)[0]
    if path.endswith("special_ids.bos"):  # two ids equal: the pair is named
        named = "seq2seq.target.special_ids"
    if path.endswith("special_ids.pad"):  # above the vocabulary
        named = "seq2seq.source.special_ids"
    assert repr(named) in message or named in message, message


@pytest.mark.parametrize("labels", [[], ["a", "a"], ["a", ""], "ab", None, ["a", 1]])
def test_classifier_labels_must_be_non_empty_and_unique(labels) -> None:
    raw = _classifier(C.TABULAR_CLASSIFIER, labels=labels)
    with pytest.raises(ArtifactError, match="classifier.labels"):
        ArtifactConfig.from_dict(raw)


def test_text_classifier_needs_its_tokenizer_and_length() -> None:
    spec = {"vocab_size": 50, "special_ids": {"pad": 0, "unk": 1, "bos": 2, "eos": 3}}
    ok = ArtifactConfig.from_dict(_classifier(C.TEXT_CLASSIFIER, labels=["a", "b"],
                                              max_source_len=8, source=spec))
    assert ok.classifier.source.vocab_size == 50 and ok.classifier.labels == ("a", "b")
    with pytest.raises(ArtifactError, match="classifier.max_source_len"):
        ArtifactConfig.from_dict(_classifier(C.TEXT_CLASSIFIER, labels=["a"], source=spec))
    with pytest.raises(ArtifactError, match="classifier.source"):
        ArtifactConfig.from_dict(_classifier(C.TEXT_CLASSIFIER, labels=["a"],
                                             max_source_len=8))
    with pytest.raises(ArtifactError, match="classifier.feature_names"):
        ArtifactConfig.from_dict(_classifier(C.TABULAR_CLASSIFIER, labels=["a"],
                                             feature_names=["x", "x"]))


def test_round_trip(v2: dict) -> None:
    cfg = ArtifactConfig.from_dict(v2)
    assert cfg.to_dict() == v2
    assert ArtifactConfig.from_dict(cfg.to_dict()) == cfg
    tab = ArtifactConfig.from_dict(_classifier(C.TABULAR_CLASSIFIER, labels=["0", "1"],
                                               feature_names=["a", "b"]))
    assert ArtifactConfig.from_dict(tab.to_dict()) == tab
    assert json.loads(json.dumps(tab.to_dict())) == tab.to_dict()


def test_newer_and_foreign_formats_are_refused(v2: dict) -> None:
    with pytest.raises(ArtifactError, match="newer than this runtime"):
        ArtifactConfig.from_dict(_set(v2, "format_version", C.FORMAT_VERSION + 1))
    with pytest.raises(ArtifactError, match="format_version"):
        ArtifactConfig.from_dict(_set(v2, "format_version", "2"))
    with pytest.raises(ArtifactError, match="unknown config format"):
        ArtifactConfig.from_dict(_set(v2, "format", "zip"))
    with pytest.raises(ArtifactError, match="unknown config format"):
        ArtifactConfig.from_dict([1, 2])


def test_version_1_is_mapped_with_defaults() -> None:
    raw = _bundled_raw()
    assert raw["format_version"] == 1 and "seq2seq" not in raw
    cfg = ArtifactConfig.from_dict(raw)
    assert cfg.format_version == 1 and C.FORMAT_VERSION == 2
    s2s = cfg.seq2seq
    assert (s2s.max_source_len, s2s.max_target_len, s2s.state_names) == (7, 6, ("state_h",))
    # v1 had no vocabulary fields: the model's hyper-parameters supply them
    assert (s2s.source.vocab_size, s2s.target.vocab_size) == (369, 136)
    assert not s2s.source.add_bos and not s2s.source.add_eos
    bare = dict(raw, model={})
    assert ArtifactConfig.from_dict(bare).seq2seq.source.vocab_size is None
    # a v1 file with a wrong field is still refused, naming the v2 field
    with pytest.raises(ArtifactError, match="seq2seq.max_source_len"):
        ArtifactConfig.from_dict(dict(raw, max_source_len=0))
    text = upgrade_v1({"kind": C.TEXT_CLASSIFIER, "labels": ["a"], "max_source_len": 4,
                       "model": {"vocab_size": 30}, "source_add_eos": True})
    assert text["classifier"]["source"]["vocab_size"] == 30
    assert text["classifier"]["source"]["add_eos"] is True


def test_bundled_version_1_model_loads_and_translates() -> None:
    from edge_attn.runtime import load_model

    art = read_artifact(BUNDLED)
    assert art.config.format_version == 1
    model = load_model(BUNDLED)
    assert model.translate("march 3rd 2021")[0].text == "2021-03-03"
    assert model.translate("march 3rd 2021", beam=3)[0].text == "2021-03-03"


def test_written_artifacts_are_version_2_and_read_back(tmp_path: Path) -> None:
    art = read_artifact(BUNDLED)
    dest = write_artifact(tmp_path / "v2.eatt", art.model_bytes, art.config.to_dict(),
                          art.tokenizers, art.validation)
    again = read_artifact(dest)
    assert again.config.format_version == 2
    assert again.config.seq2seq == art.config.seq2seq


def _rewritten(tmp_path: Path, edit_config=None, edit_tokenizers=None) -> Path:
    art = read_artifact(BUNDLED)
    config = json.loads(json.dumps(art.config.to_dict()))
    tokenizers = copy.deepcopy(art.tokenizers)
    if edit_config:
        edit_config(config)
    if edit_tokenizers:
        edit_tokenizers(tokenizers)
    return write_artifact(tmp_path / "edited.eatt", art.model_bytes, config, tokenizers,
                          force=True)


def test_source_vocabulary_larger_than_the_embedding_is_refused_at_load(tmp_path) -> None:
    from edge_attn.runtime import load_model

    def longer(toks):
        toks["source"]["vocab"] = toks["source"]["vocab"] + [f"extra{i}" for i in range(9)]

    with pytest.raises(ArtifactError, match="source tokenizer has 378 tokens.*369"):
        load_model(_rewritten(tmp_path, edit_tokenizers=longer))

    def claims(cfg):
        cfg["seq2seq"]["target"]["vocab_size"] = 200

    with pytest.raises(ArtifactError, match="log_probs width 136 != target vocabulary size 200"):
        load_model(_rewritten(tmp_path, edit_config=claims))


def test_signature_declarations_are_checked_against_the_interpreter(tmp_path) -> None:
    from edge_attn.runtime import load_model

    def retype(cfg):
        cfg["signatures"]["decode_step"]["outputs"]["log_probs"]["dtype"] = "int8"

    with pytest.raises(ArtifactError, match="decode_step.outputs.log_probs: dtype int8"):
        load_model(_rewritten(tmp_path, edit_config=retype))
