"""encode / decode_step of a user's functional Keras seq2seq, re-running its trained layers.

:func:`derive_seq2seq` splits the teacher-forced graph (:func:`.keras_derive.analyse`) and
returns a :class:`DerivedSeq2Seq` with the interface of edge-attn's own
:class:`~edge_attn.models.seq2seq.Seq2Seq`: ``encode(tokens, mask, calls)`` and
``step(token, states, memory, keys, mask, calls)``. Both run the graph's nodes in order with
the same layer objects, except where a node must change for one step or for TFLite:

- source embeddings → ``calls.embed`` (a plain gather when lowered);
- source LSTM/GRU/Bidirectional → ``calls.recur`` (one WHILE loop when lowered,
  :mod:`.rnn_loop`), with the source mask when the model masks (``mask_zero``);
- the decoder LSTM/GRU → its cell, called once on the step's embedding;
- the attention layer → :func:`.keras_attention.attend` (the masked softmax when lowered),
  with an explicit value mask;
- a ``Dense(softmax)`` output → its logits (``step`` returns logits; export applies
  ``log_softmax``).

Everything else (Concatenate, Dense, Dropout, ...) is called as the model calls it, on the
step's [B, 1, ...] tensors. The decoder's step therefore equals the teacher-forced model's
position t given the same prefix.
"""

from __future__ import annotations

from typing import Any

from edge_attn.models.layer_calls import KERAS_CALLS, LayerCalls
from edge_attn.runtime.errors import ExportError, InputError

from .keras_attention import attend
from .keras_derive import CALLABLE_HINT, Seq2SeqGraph, _describe, _is_recurrent, analyse
from .lowering import TFLiteCalls
from .user_endpoints import pad_shift, roll_rows


def _output_kind(node: Any) -> str:
    """How logits are read from the output node: ``"softmax-dense"``, ``"dense"``,
    ``"softmax"`` (an activation layer over logits)."""
    import keras

    op = node.operation
    inner = op.layer if isinstance(op, keras.layers.TimeDistributed) else op
    softmax = keras.activations.softmax
    if isinstance(inner, keras.layers.Dense):
        act = keras.activations.get(inner.activation)
        if act is softmax:
            return "softmax-dense"
        if act is keras.activations.linear:
            return "dense"
    if isinstance(inner, keras.layers.Softmax) or (
            isinstance(inner, keras.layers.Activation)
            and keras.activations.get(inner.activation) is softmax):
        return "softmax"
    raise ExportError(f"cannot derive encode/step: the output {_describe(node)} is not a "
                      f"Dense with softmax or linear activation, nor a softmax{CALLABLE_HINT}")


class DerivedSeq2Seq:
    """The step-wise pair of a teacher-forced functional seq2seq.

    Shapes: B batch, S source length, T target length, D memory width, V target vocabulary.

    Args:
        model: The user's functional ``keras.Model([source, target], probs [B, T, V])``.
        source_len: Padded source length S (default: the source input's static length).
        max_target_len: Longest output the runtime decodes (default: the target input's
            static length, else ``2 S``).
        padding: ``"post"`` or ``"pre"``: the side the model was trained with. The runtime
            always right-pads; for ``"pre"`` ``encode`` moves each row's padding to the front
            before the encoder and the memory back after it (unmasked models differ).

    Attributes:
        graph: The split graph.
        state_names: Decoder state tensor names (``state_h`` [, ``state_c``]).
        hp: ``max_source_len``, ``max_target_len``, ``target_vocab``.
    """

    def __init__(self, model: Any, source_len: int | None = None,
                 max_target_len: int | None = None, padding: str = "post") -> None:
        if padding not in ("post", "pre"):
            raise InputError(f"padding must be 'post' or 'pre', got {padding!r}")
        self.padding = padding
        self.graph: Seq2SeqGraph = analyse(model)
        self.model = model
        self.output_kind = _output_kind(self.graph.output_node)
        self.state_names = list(self.graph.state_names)
        s = source_len or self.graph.source.shape[1]
        if not s:
            raise ExportError("the model's source input has no fixed length; give "
                              "--source-len N (the padded length it was trained with)")
        t = max_target_len or self.graph.target.shape[1] or 2 * int(s)
        self.hp = {"max_source_len": int(s), "max_target_len": int(t),
                   "target_vocab": int(model.outputs[0].shape[-1])}

    @property
    def masked(self) -> bool:
        """Whether the model masks source padding (the source embedding's ``mask_zero``)."""
        return self.graph.masked

    def _source_mask(self, mask: Any, lowered: bool) -> Any:
        """bool [B, S] for the encoder's recurrences; all True when the model does not mask
        (still computed from ``mask`` when lowered, so the signature keeps its input)."""
        from keras import ops

        if self.masked:
            return ops.cast(mask, "bool")
        return ops.greater(ops.maximum(mask, 1.0), 0.5) if lowered else ops.ones_like(
            mask, dtype="bool")

    def encode(self, tokens: Any, mask: Any,
               calls: LayerCalls = KERAS_CALLS) -> tuple[Any, Any, list]:
        """Encode a padded batch.

        Args:
            tokens: int32 [B, S] source ids.
            mask: float32 [B, S], 1 for real tokens.
            calls: How embeddings and recurrences are applied (export lowers them).

        Returns:
            ``(memory [B, S, D], keys [B, S, K], states)``; keys are the attention's key
            input (the memory when it has none), states the decoder's initial states.
        """
        import keras
        from keras import tree

        g = self.graph
        shift = None
        if self.padding == "pre":
            shift = pad_shift(mask)
            tokens, mask = roll_rows(tokens, shift), roll_rows(mask, shift)
        env = {id(g.source): tokens}
        rnn_mask = self._source_mask(mask, isinstance(calls, TFLiteCalls))
        for node in g.encoder_nodes:
            args, kwargs = node.arguments.fill_in(env)
            op = node.operation
            if isinstance(op, keras.layers.Embedding):
                out = calls.embed(op, args[0])
            elif _is_recurrent(op):
                if kwargs.get("initial_state") is not None:
                    raise ExportError(f"cannot export encoder {_describe(node)}: an encoder "
                                      f"recurrence with initial_state{CALLABLE_HINT}")
                out = calls.recur(op, args[0], rnn_mask)
            else:
                out = op(*args, **kwargs)
            for t, v in zip(node.outputs, tree.flatten(out)):
                env[id(t)] = v
        memory = env[id(g.memory)]
        keys = memory if g.keys is None else env[id(g.keys)]
        if shift is not None:  # back to the runtime's order: real steps first
            memory, keys = roll_rows(memory, -shift), roll_rows(keys, -shift)
        return memory, keys, [env[id(t)] for t in g.init_states]

    def _logits(self, node: Any, env: dict) -> Any:
        import keras
        from keras import ops

        args, kwargs = node.arguments.fill_in(env)
        op = node.operation
        inner = op.layer if isinstance(op, keras.layers.TimeDistributed) else op
        x = args[0][:, 0]
        if self.output_kind == "softmax":
            return x
        if self.output_kind == "dense":
            return inner(x)
        z = ops.matmul(x, inner.kernel)
        return z + inner.bias if inner.use_bias else z

    def step(self, token: Any, states: list, memory: Any, keys: Any, mask: Any,
             calls: LayerCalls = KERAS_CALLS) -> tuple[Any, list, Any]:
        """One decoder step.

        Args:
            token: int32 [B] previous target id (``<bos>`` first).
            states: The decoder states, [B, U] each (:attr:`state_names` order).
            memory: [B, S, D] encoder outputs.
            keys: [B, S, K] attention keys from :meth:`encode`.
            mask: float32 [B, S] source mask.
            calls: How embeddings are applied (export lowers them).

        Returns:
            ``(logits [B, V], new states, attention [B, S])``.
        """
        import keras
        from keras import ops, tree

        g = self.graph
        lowered = isinstance(calls, TFLiteCalls)
        env = {id(g.target): ops.expand_dims(token, 1), id(g.memory): memory}
        env.update({id(t): s for t, s in zip(g.init_states, states)})
        if g.keys is not None:
            env[id(g.keys)] = keys
        att_mask = mask if self.masked else (ops.maximum(mask, 1.0) if lowered else None)
        new_states, weights, logits = None, None, None
        for node in g.decoder_nodes:
            if node is g.output_node:
                logits = self._logits(node, env)
                break
            args, kwargs = node.arguments.fill_in(env)
            op = node.operation
            if node is g.decoder:
                out, new = op.cell(args[0][:, 0], list(states))
                new_states = list(new) if isinstance(new, (list, tuple)) else [new]
                out = [ops.expand_dims(out, 1), *new_states] if op.return_state else \
                    ops.expand_dims(out, 1)
            elif node is g.attention:
                query = env[id(_query_of(node))]
                out, w = attend(op, query, memory, None if g.keys is None else keys,
                                att_mask, lowered)
                weights = w[:, 0]
                out = [out, w] if len(node.outputs) > 1 else out
            elif isinstance(op, keras.layers.Embedding):
                out = calls.embed(op, args[0])
            else:
                out = op(*args, **kwargs)
            for t, v in zip(node.outputs, tree.flatten(out)):
                env[id(t)] = v
        return logits, new_states, weights


def _query_of(node: Any) -> Any:
    from .keras_derive import _attention_inputs

    return _attention_inputs(node)[0]


def derive_seq2seq(model: Any, source_len: int | None = None,
                   max_target_len: int | None = None, padding: str = "post") -> DerivedSeq2Seq:
    """Derive ``encode`` / ``step`` from a teacher-forced functional Keras seq2seq.

    Args:
        model: ``keras.Model([source ids [B, S], target ids [B, T]], probs [B, T, V])``.
        source_len: Padded source length (default: the model's static source length).
        max_target_len: Output length limit for decoding.
        padding: The padding side the model was trained with (``post`` / ``pre``).

    Returns:
        A :class:`DerivedSeq2Seq` (float32 results equal the teacher-forced model's).

    Raises:
        InputError / ExportError: A model or graph edge-attn cannot split; the message says
            what was found and points to :func:`export_seq2seq`.
    """
    return DerivedSeq2Seq(model, source_len, max_target_len, padding)
