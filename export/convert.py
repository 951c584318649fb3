"""Steps 2–3 of export: convert the SavedModel to TFLite and quantize it.

Only built-in TFLite ops are allowed (ai-edge-litert cannot run Flex ops); the result is
checked for Flex/custom ops and for un-frozen variables (VAR_HANDLE / READ_VARIABLE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edge_attn.runtime.errors import ExportError

from .compact import strip_tensor_names
from .quantization import Mode, QuantConfig

Representative = Callable[[], Iterator[tuple[str, dict[str, Any]]]]
FORBIDDEN_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")


def convert(saved_model_dir: str | Path, signatures: list[str], quant: QuantConfig,
            representative: Representative | None = None) -> bytes:
    """Convert and quantize.

    Args:
        saved_model_dir: Output of :func:`export.trace.trace`.
        signatures: Signature keys to convert.
        quant: Mode and its settings.
        representative: For int8/int16x8, a generator factory yielding
            ``(signature_key, {input_name: array})`` from real data.

    Returns:
        The TFLite flatbuffer (tensor names stripped, see :mod:`.compact`).

    Raises:
        ExportError: Conversion failed, calibration data missing, or forbidden ops present.
    """
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir),
                                                    signature_keys=signatures)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quant.mode is not Mode.FLOAT32:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        # Unrolled recurrences reuse each weight at every step and the converter stores
        # per-channel scales once per use: per-tensor scales cut int8 files by ~25 % with
        # the same token agreement on the dates task (measured; see the export issue note).
        conv._experimental_disable_per_channel = True
    if quant.mode is Mode.FLOAT16:
        conv.target_spec.supported_types = [tf.float16]
    if quant.calibrate:
        if representative is None:
            raise ExportError(f"--quantize {quant.mode.value} needs calibration data")
        conv.representative_dataset = representative
        if quant.mode is Mode.INT8:
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        else:  # the 16x8 kernels lack WHILE/LESS/ZEROS_LIKE: those stay float (builtin)
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                tf.lite.OpsSet.TFLITE_BUILTINS]
    if quant.keep_float:  # calibrate only; quantized below with a denylist (see .mixed)
        conv._experimental_calibrate_only = True
    try:
        model = conv.convert()
        if quant.keep_float:
            from .mixed import quantize_keeping_float

            model = quantize_keeping_float(model, quant.keep_float)
    except ExportError:
        raise
    except Exception as exc:  # the converter raises ConverterError and plain exceptions
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"TFLite conversion ({quant.mode.value}) failed: {first}") from None
    check_ops(model)
    return strip_tensor_names(model)


def op_names(model: bytes) -> set[str]:
    """Names of every operator used by any subgraph of a TFLite flatbuffer."""
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    names = set()
    for code in m.operatorCodes:
        op = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = builtin.get(op, str(op))
        names.add(f"CUSTOM:{code.customCode.decode()}" if name == "CUSTOM" else name)
    return names


# Converting between float and integer is not float compute: an int8 model's float islands
# are the ops between a DEQUANTIZE and a QUANTIZE.
_BOUNDARY = ("QUANTIZE", "DEQUANTIZE")


def op_summary(model: bytes) -> dict[str, Any]:
    """``ops``: every operator type (sorted); ``float_ops``: {type: count} of operators that
    compute in float (a float32/float16 output; QUANTIZE / DEQUANTIZE excluded), over all
    subgraphs — everything in a float model, the kept-float parts of a mixed int8 one."""
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    floats = (schema.TensorType.FLOAT32, schema.TensorType.FLOAT16)
    names = [builtin.get(max(c.builtinCode, c.deprecatedBuiltinCode), "CUSTOM")
             for c in m.operatorCodes]
    counts: dict[str, int] = {}
    for g in m.subgraphs:
        for op in g.operators or []:
            name = names[op.opcodeIndex]
            outs = [g.tensors[i].type for i in (op.outputs if op.outputs is not None else [])
                    if i >= 0]
            if name not in _BOUNDARY and any(t in floats for t in outs):
                counts[name] = counts.get(name, 0) + 1
    return {"ops": sorted(op_names(model)), "float_ops": dict(sorted(counts.items()))}


def check_ops(model: bytes) -> None:
    """Reject Flex/custom ops and un-frozen variables.

    Raises:
        ExportError: Listing the offending ops.
    """
    bad = sorted(n for n in op_names(model) if n.startswith("CUSTOM") or n in FORBIDDEN_OPS)
    if bad:
        raise ExportError(f"converted model uses ops the runtime cannot run: {', '.join(bad)}")
