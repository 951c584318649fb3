"""Weight-only quantization (``int4-weights``, ``int8-weights``) through ``ai-edge-quantizer``.

Applied to the float32 flatbuffer :func:`.convert.convert` produced; no calibration is
needed, so it works on the WHILE encoder, where the quantizer's static calibration fails.
Every weight is stored as int8 / int4 with one scale per output channel (per row for
embedding tables); the model's inputs, outputs and all activations between ops stay float32.

* ``int8-weights``: pure weight-only. Each weight is dequantized by an explicit DEQUANTIZE op;
  XNNPACK fuses an int8 DEQUANTIZE → FULLY_CONNECTED into its float-activation, int8-weight
  kernel, so a decode step is as fast as float32 (measured).
* ``int4-weights``: the vocabulary-sized weights — embedding tables and any weight with as
  many rows as one of them (the output projection), ~85 % of a translator's weights — in
  int4 with MSE-optimal clipping per channel; the recurrent, attention and other weights
  in int8. FULLY_CONNECTED reads its int4/int8 weights directly (the quantizer's "dynamic"
  config: the kernel quantizes its float input to int8 per call, XNNPACK's qd8-f32-qc4w /
  qc8w kernels); tables and other weights are weight-only (DEQUANTIZE). Measured on the
  real eng-fra model (BLEU 36.8): everything int4 min-max ΔBLEU −2.8, everything int4 MSE
  −1.1, the vocabulary weights int4 MSE and the rest int8 −0.4 at 0.166× the float32
  model. A model without tables (tabular) is int4 throughout. Pure weight-only int4 was
  measured 7–9× slower per decode step than float32 on ai-edge-litert 2.3: XNNPACK does
  not take a FULLY_CONNECTED whose filter is a dequantized int4 tensor.

Embedding tables: our embeddings are GATHERs of a constant ``[V, E]`` table, which the
quantizer does not quantize (it does EMBEDDING_LOOKUP). For the quantizer's pass each such
GATHER is presented as ``EMBEDDING_LOOKUP(ids, table)`` (same operands, swapped; per-row
scales), and turned back into the same GATHER afterwards, now reading the DEQUANTIZE output
(a constant: dequantized once, at the first run; the runtime then holds the float table).

Backends: ``int8-weights`` runs on ai-edge-litert and tflite-runtime 2.14; ``int4-weights``
only on ai-edge-litert (tflite-runtime 2.14's DEQUANTIZE rejects INT4 at preparation).
"""

from __future__ import annotations

from typing import Any

from edge_attn.runtime.errors import ExportError

from .compact import strip_tensor_names
from .convert import check_ops
from .quantization import Mode, QuantConfig

QUANTIZER_HINT = "pip install 'edge-attn[int4]'"
WEIGHT_ONLY_BITS = {Mode.INT4_WEIGHTS: 4, Mode.INT8_WEIGHTS: 8}

VOCAB_TAG = "_vocab"  # suffix of the output names of ops reading a vocabulary-sized weight
_GATHER, _EMBEDDING_LOOKUP = 36, 7  # schema BuiltinOperator codes
_FLOAT32, _INT32, _INT64 = 0, 2, 4  # schema TensorType codes
_GATHER_OPTIONS = 23  # schema BuiltinOptions.GatherOptions


def before_convert(quant: QuantConfig) -> QuantConfig:
    """The config to convert with: float32 for a weight-only mode (whose quantizer is
    checked for now, before minutes of tracing), ``quant`` itself otherwise.

    Raises:
        ExportError: A weight-only mode without ``ai-edge-quantizer`` (with the pip hint).
    """
    if quant.mode not in WEIGHT_ONLY_BITS:
        return quant
    _import_quantizer()
    return QuantConfig(Mode.FLOAT32, False, quant.tolerance)


def weight_only(model_bytes: bytes, quant: QuantConfig) -> bytes:
    """Quantize the weights of a float32 model for a weight-only mode; other modes unchanged.

    Args:
        model_bytes: The float32 flatbuffer from :func:`.convert.convert`.
        quant: The export's quantization config.

    Returns:
        The flatbuffer with int4/int8 weights (tensor names stripped), or ``model_bytes``
        itself when ``quant`` is not a weight-only mode.

    Raises:
        ExportError: ``ai-edge-quantizer`` is missing (with the pip hint) or failed.
    """
    bits = WEIGHT_ONLY_BITS.get(quant.mode)
    if bits is None:
        return model_bytes
    quantizer, recipe = _import_quantizer()
    prepared, retagged, tagged = _present_tables(model_bytes)
    try:
        qt = quantizer.Quantizer(prepared, recipe(bits, tagged > 0))
        result = bytes(qt.quantize().quantized_model)
    except Exception as exc:  # the quantizer raises plain exceptions of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"ai-edge-quantizer ({quant.mode.value}) failed: {first}") from None
    model = strip_tensor_names(_restore_gathers(result, retagged))
    check_ops(model)
    return model


def _import_quantizer() -> tuple[Any, Any]:
    """``(quantizer module, recipe factory)``; ExportError with the pip hint if missing."""
    try:
        from ai_edge_quantizer import qtyping, quantizer, recipe_manager
    except ImportError:
        raise ExportError("weight-only modes (int4-weights, int8-weights) need "
                          f"ai-edge-quantizer; run `{QUANTIZER_HINT}`") from None

    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    ops, channelwise = qtyping.TFLOperationName, qtyping.QuantGranularity.CHANNELWISE
    mse, min_max = AlgorithmName.MSE, AlgorithmName.MIN_MAX_UNIFORM_QUANT

    def make(bits: int, tables: bool = False) -> Any:
        """The recipe; ``tables``: int4 only for scopes tagged :data:`VOCAB_TAG`."""
        manager = recipe_manager.RecipeManager()
        if bits == 8:
            manager.add_weight_only_config(regex=".*", operation_name=ops.ALL_SUPPORTED,
                                           num_bits=8, granularity=channelwise)
            return manager.get_quantization_recipe()
        rest = 8 if tables else 4  # the later matching scope wins (the quantizer's rule)
        for scope, n in ((".*", rest), (VOCAB_TAG, 4)) if tables else ((".*", rest),):
            algorithm = mse if n == 4 else min_max
            manager.add_weight_only_config(regex=scope, operation_name=ops.EMBEDDING_LOOKUP,
                                           num_bits=n, granularity=channelwise,
                                           algorithm_key=algorithm)
            for op in (ops.BATCH_MATMUL, ops.CONV_2D):  # MSE does not take these
                manager.add_weight_only_config(regex=scope, operation_name=op, num_bits=n,
                                               granularity=channelwise)
            manager.add_dynamic_config(regex=scope, operation_name=ops.FULLY_CONNECTED,
                                       num_bits=n, granularity=channelwise,
                                       algorithm_key=algorithm)
        return manager.get_quantization_recipe()

    return quantizer, make


def _opcode_index(model: Any, code: int) -> int:
    """Index of the operator code ``code`` in ``model.operatorCodes`` (added if missing)."""
    from tensorflow.lite.python import schema_py_generated as schema

    for i, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            return i
    oc = schema.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _is_table_gather(model: Any, subgraph: Any, op: Any) -> bool:
    """A GATHER of rows (axis 0, no batch dims) of a constant 2-D float32 table by ids."""
    code = model.operatorCodes[op.opcodeIndex]
    if max(code.builtinCode, code.deprecatedBuiltinCode) != _GATHER or len(op.inputs) != 2:
        return False
    opts = op.builtinOptions
    return (_constant_rows(model, subgraph, op.inputs[0]) is not None
            and subgraph.tensors[op.inputs[1]].type in (_INT32, _INT64)
            and (opts is None or (opts.axis == 0 and opts.batchDims == 0)))


def _present_tables(model_bytes: bytes) -> tuple[bytes, int, int]:
    """Name every tensor (the quantizer needs names; the converter's were stripped), turn
    table GATHERs into EMBEDDING_LOOKUPs and tag (:data:`VOCAB_TAG`) the outputs of every op
    that reads a constant 2-D weight with as many rows as a table (embeddings, the output
    projection); returns the bytes, how many GATHERs were turned and how many ops tagged."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    if any(max(c.builtinCode, c.deprecatedBuiltinCode) == _EMBEDDING_LOOKUP
           for c in model.operatorCodes):  # our exporter never emits it; keep restore exact
        raise ExportError("weight-only export expects no EMBEDDING_LOOKUP op in the model")
    lookup, turned, rows = None, 0, set()
    for s, subgraph in enumerate(model.subgraphs):
        for i, tensor in enumerate(subgraph.tensors):
            tensor.name = f"t{s}_{i}".encode()
        for op in subgraph.operators:
            if _is_table_gather(model, subgraph, op):
                rows.add(int(subgraph.tensors[op.inputs[0]].shape[0]))
                lookup = _opcode_index(model, _EMBEDDING_LOOKUP) if lookup is None else lookup
                op.opcodeIndex, op.inputs = lookup, [op.inputs[1], op.inputs[0]]
                op.builtinOptionsType, op.builtinOptions = 0, None
                turned += 1
    tagged = 0
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if any(_constant_rows(model, subgraph, i) in rows for i in op.inputs):
                for o in op.outputs:
                    subgraph.tensors[o].name += VOCAB_TAG.encode()
                tagged += 1
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), turned, tagged


def _constant_rows(model: Any, subgraph: Any, index: int) -> int | None:
    """Rows of a constant 2-D float32 tensor, else None."""
    if index < 0:
        return None
    tensor = subgraph.tensors[index]
    data = model.buffers[tensor.buffer].data
    if (tensor.type != _FLOAT32 or data is None or not len(data) or tensor.shape is None
            or len(tensor.shape) != 2):
        return None
    return int(tensor.shape[0])


def _restore_gathers(model_bytes: bytes, expected: int) -> bytes:
    """Every EMBEDDING_LOOKUP back to the GATHER it was (operands swapped back, axis 0)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    _inline_buffers(model, model_bytes)
    gather, restored = _opcode_index(model, _GATHER), 0
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            if max(code.builtinCode, code.deprecatedBuiltinCode) == _EMBEDDING_LOOKUP:
                options = schema.GatherOptionsT()
                options.axis, options.batchDims = 0, 0
                op.opcodeIndex, op.inputs = gather, [op.inputs[1], op.inputs[0]]
                op.builtinOptionsType, op.builtinOptions = _GATHER_OPTIONS, options
                restored += 1
    if restored != expected:
        raise ExportError(f"weight-only export: {restored} embedding lookups came back from "
                          f"the quantizer, {expected} went in")
    _drop_opcode(model, _EMBEDDING_LOOKUP)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _inline_buffers(model: Any, model_bytes: bytes) -> None:
    """Move buffers the quantizer stored after the flatbuffer (``offset``/``size``, its
    format for models with >= 256 KiB of weights) back inside it: re-serialising would drop
    them, and the runtime's verifier and tflite-runtime 2.14 expect inline buffers."""
    import numpy as np

    for buf in model.buffers:
        if buf.offset and buf.offset > 1:
            end = buf.offset + buf.size
            if end > len(model_bytes):
                raise ExportError("ai-edge-quantizer wrote a buffer past the end of the model")
            buf.data = np.frombuffer(model_bytes, np.uint8, buf.size, buf.offset).copy()
            buf.offset, buf.size = 0, 0


def _drop_opcode(model: Any, code: int) -> None:
    """Remove the (now unused) operator code ``code`` and renumber the operators."""
    index = next((i for i, c in enumerate(model.operatorCodes)
                  if max(c.builtinCode, c.deprecatedBuiltinCode) == code), None)
    if index is None:
        return
    del model.operatorCodes[index]
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            op.opcodeIndex -= op.opcodeIndex > index
