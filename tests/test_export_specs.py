"""Export specs: the registry picks the built-in spec by kind, the pipeline has no kind
branches, and each spec yields examples, calibration feeds and a typed config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_attn.export import specs
from edge_attn.export.quantization import quant_config
from edge_attn.runtime import constants as C
from edge_attn.runtime.config import ArtifactConfig
from edge_attn.runtime.errors import UnknownChoiceError
from edge_attn.training.checkpoint import load_checkpoint

EXPORT = Path(specs.__file__).resolve().parent
KIND_NAMES = re.compile(r"C\.(SEQ2SEQ|TEXT_CLASSIFIER|TABULAR_CLASSIFIER)\b|"
                        r"\"(seq2seq|text-classifier|tabular-classifier)\"|\.kind ==")


def test_kind_is_looked_up_only_in_the_specs() -> None:
    offenders = [f"{p.name}:{n}" for p in sorted(EXPORT.glob("*.py"))
                 if p.name != "specs.py" and not p.name.startswith(("spec_", "keras_", "user_"))
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if KIND_NAMES.search(line)]
    assert offenders == []


def test_export_imports_no_training_internals_but_load_checkpoint() -> None:
    for p in EXPORT.glob("*.py"):
        for line in p.read_text().splitlines():
            if line.lstrip().startswith(("from edge_attn.training", "import edge_attn.training")):
                assert "edge_attn.training.checkpoint import load_checkpoint" in line, (p, line)


class _Fake:
    def __init__(self, config):
        self.config = config


def test_unknown_kind_is_a_choice_error() -> None:
    with pytest.raises(UnknownChoiceError, match="model kind 'transformer'"):
        specs.spec_for_checkpoint(_Fake({"kind": "transformer"}))


@pytest.mark.parametrize(("ckpt", "kind", "cls", "signatures"), [
    ("dates_ckpt", C.SEQ2SEQ, "Seq2SeqSpec", {C.ENCODE, C.DECODE_STEP}),
    ("text_ckpt", C.TEXT_CLASSIFIER, "TextClassifierSpec", {C.CLASSIFY}),
    ("tabular_ckpt", C.TABULAR_CLASSIFIER, "TabularClassifierSpec", {C.CLASSIFY})])
def test_registry_and_spec_interface(pipeline: dict, ckpt: str, kind: str, cls: str,
                                     signatures: set) -> None:
    from edge_attn.export.lowering import TFLITE_CALLS
    from edge_attn.runtime.artifact import read_artifact
    from edge_attn.runtime.session import Session

    spec = specs.spec_for_checkpoint(load_checkpoint(pipeline[ckpt]))
    assert type(spec).__name__ == cls and spec.kind == kind
    assert set(spec.endpoints(TFLITE_CALLS)) == signatures
    cal = spec.calibration_examples(None)
    assert len(spec.validation_examples()) > 0 and len(cal) >= specs.MIN_SAMPLES
    feeds = list(specs.representative_dataset(spec, cal, 8)())
    assert {name for name, _ in feeds} == signatures
    # the config it writes for an artifact of this checkpoint is what that artifact holds
    name = ckpt.replace("_ckpt", "")
    art = read_artifact(pipeline[f"{name}-float32"])
    session = Session(art.model_bytes, num_threads=1)
    from edge_attn.runtime.contract import declare

    config = spec.config(art.model_bytes, quant_config("float32"), declare(session.signatures))
    assert isinstance(config, ArtifactConfig) and config == art.config
    assert set(spec.tokenizers()) == set(config.tokenizer_specs())
    metrics = spec.metrics(art, session, spec.validation_examples())
    assert metrics[spec.agreement] == 1.0
