"""Export the user's own Keras model: the Python API behind ``edge-attn export MODEL.keras``.

Three entry points, one pipeline (:func:`export.pipeline.export_spec`):

- :func:`export_seq2seq` — a functional teacher-forced seq2seq (``model=``, encode/step
  derived) or the user's own callables (``encode=``, ``step=``, ``owners=``);
- :func:`export_classifier` — a text or tabular classifier with a named attention layer;
- :func:`export_keras_file` — load a ``.keras`` file (custom layers from a module) and call
  one of the two with vocabularies and examples read from files.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import DataError, InputError

Progress = Callable[[str, int, int], None]


def _describe_seq2seq(pair: Any) -> dict[str, Any]:
    """What was derived and how it was lowered (shown by ``edge-attn inspect``)."""
    graph = getattr(pair, "graph", None)
    if graph is None:
        return {"source": "user callables", "lowering": [
            "Keras embeddings → gather", "Keras LSTM/GRU over a sequence → one WHILE loop, "
            "over one step → the cell", "Keras attention layers → masked softmax"]}
    enc = [n.operation for n in graph.encoder_nodes]
    lowering = [f"{x.name} ({type(x).__name__}) → one WHILE loop" for x in enc
                if type(x).__name__ in ("LSTM", "GRU", "Bidirectional")]
    lowering.append(f"{graph.decoder.operation.name} ({type(graph.decoder.operation).__name__})"
                    " → one cell step")
    lowering.append(f"{graph.attention.operation.name} "
                    f"({type(graph.attention.operation).__name__}) -1e9 masking → masked "
                    "softmax")
    lowering.append("embeddings → gather")
    return {"source": "user functional Keras model", "name": graph.model.name,
            "padding": pair.padding, "lowering": lowering}


def _source_rows(model: Any) -> int | None:
    import keras

    graph = model.graph
    emb = [n.operation for n in graph.encoder_nodes
           if isinstance(n.operation, keras.layers.Embedding)]
    return int(emb[0].input_dim) if emb else None


def _examples(examples: Any, reader: Callable[[str], list]) -> list:
    if isinstance(examples, (str, Path)):
        if not Path(examples).is_file():
            raise DataError(f"{examples}: examples file not found")
        return [list(r) for r in reader(str(examples))]
    return [list(r) for r in examples]


def _run(spec: Any, out: str | Path, quantize: str, calibration_samples: int, force: bool,
         validate: bool, progress: Progress | None) -> dict[str, Any]:
    from .pipeline import export_spec

    return export_spec(spec, out, quantize=quantize, calibration_samples=calibration_samples,
                       force=force, validate_model=validate, progress=progress)


def export_seq2seq(out: str | Path, *, source_vocab: Any, target_vocab: Any, examples: Any,
                   model: Any = None, encode: Callable | None = None,
                   step: Callable | None = None, owners: Sequence[Any] | None = None,
                   source_len: int | None = None, max_target_len: int | None = None,
                   padding: str = "post", quantize: str = "float32",
                   calibration_samples: int = 200, force: bool = False, validate: bool = True,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Export a user seq2seq model to one artifact.

    Args:
        out: Artifact path.
        source_vocab, target_vocab: Tokenizers with the model's ids
            (:func:`.user_vocab.from_text_vectorization`, :func:`.user_vocab.read_vocab_file`
            or an edge-attn tokenizer).
        examples: ``(source, target)`` text pairs or a TSV file of them (calibration uses the
            first ``calibration_samples``, validation the last 200).
        model: A teacher-forced functional ``keras.Model([source, target], probs)``.
        encode, step, owners: Instead of ``model``: ``encode(tokens, mask) -> (memory,
            states)``, ``step(token, states, memory, mask) -> (logits, states, attention)``
            and the Keras objects holding their weights (see :mod:`.user_callables`).
        source_len: Padded source length (required with callables).
        max_target_len: Output length limit.
        padding: ``post`` / ``pre``: the side the model was trained with (derived models).
        quantize: float32, float16, dynamic, int8 or int16x8.
        calibration_samples, force, validate, progress: As :func:`export.pipeline.export`.

    Returns:
        The export summary (path, sizes, validation report).
    """
    from edge_attn.data.tsv import read_pairs

    from .spec_user import UserSeq2SeqSpec
    from .user_callables import CallableSeq2Seq
    from .user_seq2seq import derive_seq2seq
    from .user_vocab import check_size

    if model is not None:
        if encode is not None or step is not None:
            raise InputError("give either model= (derived) or encode=/step=/owners=, not both")
        pair, owners = derive_seq2seq(model, source_len, max_target_len, padding), [model]
        rows = _source_rows(pair)
        if rows is not None:
            check_size(source_vocab, rows, "source")
    else:
        if encode is None or step is None or not owners or source_len is None:
            raise InputError("the callable API needs encode=, step=, owners= and source_len=")
        pair = CallableSeq2Seq(encode, step, owners, source_len,
                               max_target_len or 2 * source_len)
    spec = UserSeq2SeqSpec(pair, owners, source_vocab, target_vocab,
                           _examples(examples, read_pairs), _describe_seq2seq(pair))
    return _run(spec, out, quantize, calibration_samples, force, validate, progress)


def read_tabular(path: str) -> list[list[Any]]:
    """``label,x0,x1,...`` (comma or tab separated) rows; a non-numeric first row is a
    header."""
    rows = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.replace("\t", ",").split(",")
        try:
            rows.append([parts[0].strip(), *[float(x) for x in parts[1:]]])
        except ValueError:
            if no == 1:
                continue
            raise DataError(f"{path}:{no}: features must be numbers") from None
    return rows


def export_classifier(out: str | Path, *, model: Any, kind: str, examples: Any,
                      labels: Sequence[str] | None = None, attention: str | None = None,
                      vocab: Any = None, feature_names: Sequence[str] | None = None,
                      padding: str = "post", quantize: str = "float32",
                      calibration_samples: int = 200, force: bool = False,
                      validate: bool = True, progress: Progress | None = None
                      ) -> dict[str, Any]:
    """Export a user classifier with a named attention layer (see :mod:`.user_classifier`).

    Args:
        out: Artifact path.
        model: Functional ``keras.Model`` (one input, one output).
        kind: ``text-classifier`` or ``tabular-classifier``.
        examples: ``[label, text]`` / ``[label, x0, ...]`` rows, or a file of them.
        labels: Class names in output order (default ``0 … C-1``).
        attention: The attention layer's name (default: the one candidate).
        vocab: The text tokenizer (text classifiers).
        feature_names: Column names (tabular).
        padding: ``post`` / ``pre``: the side a text classifier was trained with.
        quantize, calibration_samples, force, validate, progress: As :func:`export_seq2seq`.
    """
    from edge_attn.data.tsv import read_labeled

    from .spec_user import classifier_spec
    from .user_classifier import tap_classifier

    clf = tap_classifier(model, kind, attention, padding)
    if kind == C.TEXT_CLASSIFIER and vocab is None:
        raise InputError("a text classifier needs its vocabulary (--vocab FILE)")
    labels = list(labels) if labels else [str(i) for i in range(clf.num_classes)]
    reader = read_labeled if kind == C.TEXT_CLASSIFIER else read_tabular
    describe = {"source": "user functional Keras model", "name": model.name,
                "attention_layer": clf.layer.name, "head": clf.head, "padding": padding}
    spec = classifier_spec(clf, labels, _examples(examples, reader), vocab, feature_names,
                           describe)
    return _run(spec, out, quantize, calibration_samples, force, validate, progress)


def load_custom_module(path: str | Path) -> dict[str, Any]:
    """Import ``path`` (registering its Keras classes); ``{class name: class}`` of the Keras
    layers/models it defines.

    Raises:
        InputError: The file is missing or fails to import.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise InputError(f"custom module {path} not found")
    import sys

    name = f"edge_attn_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any failure is theirs, say so in one line
        del sys.modules[name]
        raise InputError(f"custom module {path} failed to import: "
                         f"{type(exc).__name__}: {exc}") from None
    return {k: v for k, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, keras.layers.Layer)}


def load_keras_model(path: str | Path, custom_module: str | Path | None = None) -> Any:
    """Load a ``.keras`` file, custom layers from ``custom_module``.

    Raises:
        InputError: Missing file, or a custom class Keras cannot find (names the class).
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    custom = load_custom_module(custom_module) if custom_module else {}
    try:
        return keras.saving.load_model(path, custom_objects=custom, compile=False)
    except (TypeError, ValueError) as exc:
        import re

        missing = re.search(r"Could not locate (?:class|function) '([^']+)'", str(exc))
        text = (f"unknown custom class {missing.group(1)!r}" if missing else
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        hint = "" if custom_module else "; pass --custom-module FILE.py defining it"
        raise InputError(f"{path}: cannot load the model: {text}{hint}") from None


def _labels_arg(labels: str | Sequence[str] | None) -> list[str] | None:
    if labels is None or isinstance(labels, (list, tuple)):
        return labels
    return [x.strip() for x in labels.split(",") if x.strip()]


def export_keras_file(path: str | Path, out: str | Path, *, kind: str,
                      calibration_data: str, custom_module: str | None = None,
                      attention_layer: str | None = None, source_vocab: str | None = None,
                      target_vocab: str | None = None, vocab: str | None = None,
                      specials: str | None = None, padding: str = "post",
                      source_len: int | None = None, max_target_len: int | None = None,
                      labels: str | Sequence[str] | None = None,
                      standardize: str | None = "lower_and_strip_punctuation",
                      split: str = "whitespace", quantize: str = "float32",
                      calibration_samples: int = 200, force: bool = False,
                      validate: bool = True, progress: Progress | None = None
                      ) -> dict[str, Any]:
    """``edge-attn export MODEL.keras``: load, pick the style by ``kind``, read the
    vocabularies (token files; ``specials`` like ``pad=,unk=[UNK],bos=[start],eos=[end]``;
    ``standardize`` / ``split`` as the ``TextVectorization`` that made them, ``"none"`` for
    no standardization), export. See :func:`export_seq2seq` / :func:`export_classifier`."""
    from .user_vocab import parse_specials, read_vocab_file

    if kind not in C.MODEL_KINDS:
        raise InputError(f"--kind must be one of {', '.join(C.MODEL_KINDS)}, got {kind!r}")
    if out is not None and Path(out).exists() and not force:
        raise InputError(f"{out} exists; pass --force to replace it")
    named = parse_specials(specials)
    std = None if standardize in (None, "none") else standardize
    model = load_keras_model(path, custom_module)
    common = {"quantize": quantize, "calibration_samples": calibration_samples,
              "force": force, "validate": validate, "progress": progress}
    if kind == C.SEQ2SEQ:
        if not source_vocab or not target_vocab:
            raise InputError("--kind seq2seq needs --source-vocab FILE and --target-vocab FILE")
        src = read_vocab_file(source_vocab, named, std, split, optional=("bos", "eos"))
        return export_seq2seq(out, model=model, source_vocab=src,
                              target_vocab=read_vocab_file(target_vocab, named, std, split),
                              examples=calibration_data, source_len=source_len,
                              max_target_len=max_target_len, padding=padding, **common)
    tok = read_vocab_file(vocab, named, std, split, optional=("bos", "eos")) if vocab else None
    return export_classifier(out, model=model, kind=kind, examples=calibration_data,
                             labels=_labels_arg(labels), attention=attention_layer, vocab=tok,
                             padding=padding, **common)


