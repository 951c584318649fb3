"""Find the encoder, decoder recurrence and attention in a user's functional Keras seq2seq.

The classic Keras recipe trains one teacher-forced model::

    src → Embedding → LSTM/GRU/Bidirectional(return_sequences, return_state) ─┬─ memory
                                          final states ── initial_state ──┐   │
    tgt → Embedding → decoder LSTM/GRU(return_sequences) ────────────── query ─ Attention
          → Concatenate([decoder, context]) → Dense(softmax)                       (or Additive-,
                                                                                  MultiHead-)
:func:`analyse` walks the functional graph and splits it at the *boundary*: tensors computed
from the source alone (the encoder side) that the target side reads. Only two kinds of
boundary tensors can be carried from ``encode`` to ``decode_step``: the decoder's initial
states and the attention's memory (value / key). Everything else the recipe rules out is an
:class:`~edge_attn.runtime.errors.ExportError` naming what was found: no recurrent decoder
(a Transformer), attention feeding the decoder's input (Luong input feeding / attention
before the RNN), self-attention over the target, unknown layers in the decoder path.
:mod:`.user_seq2seq` then re-runs the very same layers, node by node, as the two functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_attn.runtime.errors import ExportError, InputError

from .keras_attention import attention_kinds

CALLABLE_HINT = ("; export it with the callable API instead: "
                 "edge_attn.export.export_seq2seq(encode=..., step=..., owners=[...])")

# Layers applied to each decoder step on its own (safe to run on one step at a time).
STEPWISE_LAYERS = frozenset({
    "Dense", "EinsumDense", "Concatenate", "Add", "Subtract", "Multiply", "Average",
    "Maximum", "Minimum", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "LayerNormalization", "BatchNormalization", "RMSNormalization", "TimeDistributed",
    "Identity", "Embedding", "InputLayer", "Masking"})
# keras.ops operations that appear in graphs (mask computation, functional ops).
STEPWISE_OPS = frozenset({"NotEqual", "Equal", "Cast", "Concatenate", "Add", "Multiply",
                          "Subtract", "Tanh", "Sigmoid", "Relu", "Softmax", "LogicalAnd"})


@dataclass
class Seq2SeqGraph:
    """The parts of a teacher-forced functional seq2seq.

    Attributes:
        model: The user's ``keras.Model``.
        source, target: The model's two input KerasTensors ([B, S] and [B, T] ids).
        encoder_nodes: Nodes computed from the source alone, in execution order.
        decoder_nodes: Nodes that read the target, in execution order.
        decoder: The decoder's recurrent node (``initial_state`` from the encoder side).
        init_states: The decoder's initial-state tensors (boundary), in call order.
        attention: The attention node (query from the decoder).
        memory: Its value tensor [B, S, D] (boundary).
        keys: Its key tensor (boundary) or None when keys are the values.
        masked: Whether the memory carries a padding mask (``Embedding(mask_zero=True)``).
        output_node: The node producing the model's [B, T, V] output.
    """

    model: Any
    source: Any
    target: Any
    encoder_nodes: list
    decoder_nodes: list
    decoder: Any
    init_states: list
    attention: Any
    memory: Any
    keys: Any | None
    masked: bool
    output_node: Any
    state_names: list[str] = field(default_factory=list)


def _nodes_in_order(model: Any) -> list:
    by_depth = model._nodes_by_depth
    return [n for d in sorted(by_depth, reverse=True) for n in by_depth[d]]


def _dependencies(nodes: list, inputs: list) -> dict[int, frozenset]:
    """``{id(tensor): indices of the model inputs it is computed from}``."""
    deps = {id(x): frozenset([i]) for i, x in enumerate(inputs)}
    for node in nodes:
        if node.is_input:
            continue
        got = frozenset().union(*(deps.get(id(t), frozenset()) for t in node.input_tensors))
        for t in node.outputs:
            deps[id(t)] = got
    return deps


def _producer(tensor: Any) -> Any:
    """The node that computed a KerasTensor."""
    op, node_index, _ = tensor._keras_history
    return op._inbound_nodes[node_index]


def _ancestors(tensor: Any) -> set[int]:
    """ids of every operation ``tensor`` is computed from (itself included)."""
    seen: set[int] = set()
    stack = [_producer(tensor)]
    while stack:
        node = stack.pop()
        if id(node.operation) in seen:
            continue
        seen.add(id(node.operation))
        stack.extend(_producer(t) for t in node.input_tensors)
    return seen


def _describe(node: Any) -> str:
    return f"{node.operation.name} ({type(node.operation).__name__})"


def _is_recurrent(op: Any) -> bool:
    import keras

    return isinstance(op, (keras.layers.RNN, keras.layers.Bidirectional))


def _two_inputs(model: Any) -> tuple[Any, Any, int]:
    """``(source, target, target index)``: the target is the input the decoder reads."""
    import keras

    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise InputError(f"{type(model).__name__} is not a functional Keras model; derive "
                         f"works on functional graphs{CALLABLE_HINT}")
    inputs = list(model.inputs)
    if len(inputs) != 2 or len(model.outputs) != 1:
        raise InputError(f"model {model.name!r} has {len(inputs)} inputs and "
                         f"{len(model.outputs)} outputs; a teacher-forced seq2seq has two "
                         f"inputs (source, target) and one output{CALLABLE_HINT}")
    return inputs[0], inputs[1], 1


def _find_decoder(nodes: list, deps: dict, target_ix: int) -> Any:
    rnns = [n for n in nodes if _is_recurrent(n.operation)
            and target_ix in deps[id(n.outputs[0])]]
    if not rnns:
        att = [n for n in nodes if isinstance(n.operation, attention_kinds())]
        what = "attention but no LSTM/GRU decoder (a Transformer?)" if att else \
            "no recurrent decoder"
        raise ExportError(f"cannot derive encode/step: the decoder path has {what}"
                          f"{CALLABLE_HINT}")
    if len(rnns) > 1:
        raise ExportError("cannot derive encode/step: more than one recurrent layer reads "
                          f"the target ({', '.join(_describe(n) for n in rnns)})"
                          f"{CALLABLE_HINT}")
    node = rnns[0]
    layer = node.operation
    init = node.arguments.kwargs.get("initial_state")
    if init is None and len(node.arguments.args) > 1:
        init = node.arguments.args[1]
    if not hasattr(layer, "cell") or isinstance(init, type(None)):
        raise ExportError(f"cannot derive encode/step: the decoder {_describe(node)} must be "
                          "a LSTM/GRU called with initial_state from the encoder"
                          f"{CALLABLE_HINT}")
    if not layer.return_sequences or layer.go_backwards:
        raise ExportError(f"cannot derive encode/step: the decoder {_describe(node)} must "
                          f"return sequences and run forwards{CALLABLE_HINT}")
    return node


def _attention_inputs(node: Any) -> tuple[Any, Any, Any | None]:
    """``(query, value, key or None)`` KerasTensors of an attention node."""
    import keras

    args, kwargs = node.arguments.args, node.arguments.kwargs
    if isinstance(node.operation, keras.layers.MultiHeadAttention):
        query = args[0] if args else kwargs["query"]
        value = args[1] if len(args) > 1 else kwargs["value"]
        return query, value, kwargs.get("key", args[2] if len(args) > 2 else None)
    inputs = args[0] if args else kwargs["inputs"]
    return inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None


def _find_attention(nodes: list, deps: dict, target_ix: int, decoder: Any) -> Any:
    found = [n for n in nodes if isinstance(n.operation, attention_kinds())]
    if not found:
        custom = [n for n in nodes if "attention" in type(n.operation).__name__.lower()]
        what = (f"an attention layer edge-attn does not know: {_describe(custom[0])}"
                if custom else "no attention layer")
        raise InputError(f"model is not a supported attention seq2seq: found {what}; "
                         f"derive knows keras.layers.Attention, AdditiveAttention and "
                         f"MultiHeadAttention{CALLABLE_HINT}")
    if len(found) > 1:
        raise ExportError("cannot derive encode/step: more than one attention layer ("
                          f"{', '.join(_describe(n) for n in found)}){CALLABLE_HINT}")
    node = found[0]
    query, value, key = _attention_inputs(node)
    if id(node.operation) in _ancestors(decoder.outputs[0]):
        raise ExportError(f"cannot derive encode/step: attention {_describe(node)} feeds the "
                          "decoder's input (Luong input feeding / attention before the RNN)"
                          f"{CALLABLE_HINT}")
    if id(decoder.operation) not in _ancestors(query):
        raise ExportError(f"cannot derive encode/step: the query of {_describe(node)} does "
                          f"not come from the decoder {_describe(decoder)}{CALLABLE_HINT}")
    for t in (value, key):
        if t is not None and target_ix in deps[id(t)]:
            raise ExportError(f"cannot derive encode/step: {_describe(node)} attends over "
                              "the target (self-attention, as in a Transformer decoder)"
                              f"{CALLABLE_HINT}")
    return node


def _check_decoder_path(decoder_nodes: list, decoder: Any, attention: Any) -> None:
    import keras

    for node in decoder_nodes:
        op = node.operation
        if node is decoder or node is attention or node.is_input:
            continue
        name = type(op).__name__
        if isinstance(op, keras.layers.TimeDistributed):
            name = type(op.layer).__name__
        allowed = STEPWISE_LAYERS if isinstance(op, keras.layers.Layer) else STEPWISE_OPS
        if name not in allowed:
            raise ExportError(f"cannot derive encode/step: unsupported layer {_describe(node)} "
                              f"in the decoder path{CALLABLE_HINT}")


def _check_boundary(decoder_nodes: list, deps: dict, source_ix: int, target_ix: int,
                    allowed: dict[int, Any]) -> None:
    """Every source-side tensor the target side reads must be carried by the signatures."""
    for node in decoder_nodes:
        for t in node.input_tensors:
            d = deps.get(id(t), frozenset())
            if target_ix in d or source_ix not in d:
                continue
            if node.operation.__class__.__name__ in ("NotEqual", "Equal"):
                continue
            if allowed.get(id(t)) is not node:
                raise ExportError(f"cannot derive encode/step: {_describe(node)} reads "
                                  f"{_describe(_producer(t))} from the encoder side; only the "
                                  "decoder's initial state and the attended memory can be "
                                  f"carried between steps{CALLABLE_HINT}")


def analyse(model: Any) -> Seq2SeqGraph:
    """Split a teacher-forced functional seq2seq into its encoder and decoder sides.

    Args:
        model: A functional ``keras.Model([source, target], probs)``: source ids [B, S],
            target ids [B, T] (``<bos>`` first), output [B, T, V].

    Returns:
        The :class:`Seq2SeqGraph`.

    Raises:
        InputError: Not a functional two-input model, or no known attention layer.
        ExportError: A graph edge-attn cannot split (the message says what was found).
    """
    first, second, _ = _two_inputs(model)
    nodes = _nodes_in_order(model)
    deps = _dependencies(nodes, [first, second])
    rnn_readers = [n for n in nodes if _is_recurrent(n.operation) and n.arguments.kwargs.get(
        "initial_state") is not None]
    target_ix = 1
    if rnn_readers and 0 in deps[id(rnn_readers[0].arguments.args[0])] \
            and 1 not in deps[id(rnn_readers[0].arguments.args[0])]:
        target_ix = 0  # the decoder reads the first input: inputs are (target, source)
    source_ix = 1 - target_ix
    inputs = [first, second]
    decoder = _find_decoder(nodes, deps, target_ix)
    attention = _find_attention(nodes, deps, target_ix, decoder)
    init = decoder.arguments.kwargs.get("initial_state")
    init = list(init) if isinstance(init, (list, tuple)) else [init]
    _, value, key = _attention_inputs(attention)
    dec_nodes = [n for n in nodes if not n.is_input and target_ix in deps[id(n.outputs[0])]]
    enc_nodes = [n for n in nodes if not n.is_input and target_ix not in deps[id(n.outputs[0])]]
    _check_decoder_path(dec_nodes, decoder, attention)
    allowed = {id(t): decoder for t in init}
    allowed.update({id(t): attention for t in (value, key) if t is not None})
    _check_boundary(dec_nodes, deps, source_ix, target_ix, allowed)
    out_node = _producer(model.outputs[0])
    n_states = len(decoder.operation.cell.state_size) if isinstance(
        decoder.operation.cell.state_size, (list, tuple)) else 1
    if len(init) != n_states:
        raise ExportError(f"decoder {_describe(decoder)} gets {len(init)} initial states, "
                          f"its cell has {n_states}")
    return Seq2SeqGraph(model, inputs[source_ix], inputs[target_ix], enc_nodes, dec_nodes,
                        decoder, init, attention, value, key,
                        getattr(value, "_keras_mask", None) is not None, out_node,
                        ["state_h", "state_c"][:n_states])
