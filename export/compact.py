"""Drop the converter's tensor names from a TFLite flatbuffer (8–10 % of a small int8 model).

The converter names every tensor after its TF op location ("while/MatMul;while/add;…").
Nothing reads them: the runtime addresses tensors through the signature definitions, whose
own input/output names are kept. (``flatbuffer_utils.strip_strings`` also deletes the
signature definitions, so it cannot be used.)
"""

from __future__ import annotations


def strip_tensor_names(model: bytes) -> bytes:
    """``model`` with every tensor name and the description removed; signatures kept.

    Args:
        model: A TFLite flatbuffer.

    Returns:
        The re-serialised flatbuffer.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    obj.description = None
    for subgraph in obj.subgraphs:
        for tensor in subgraph.tensors:
            tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))
