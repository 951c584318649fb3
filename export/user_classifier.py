"""``classify(inputs) → probs, attention`` of a user's functional Keras classifier.

Two recipes (issue 12, styles 3 and 4), the attention named by the user:

- **tabular** — ``x → Dense(F, softmax, name=A) → Multiply([x, a]) → dense head``: the
  attention is layer ``A``'s output [B, F];
- **text** — ``ids → Embedding → Bidirectional(GRU) → pooling layer A → Dense``: the weights
  are inside ``A`` (``tanh(xW+b)·u``, softmax over time), so ``A`` must expose them (the
  documented convention) as a method ``attention_weights(inputs, mask=None) → [B, S]``, or
  better ``attention_scores(inputs) → [B, S]`` (the raw scores): export then computes
  ``a = masked_softmax(scores, mask)`` and ``Σ_s a_s x_s`` itself, which keeps int8 working
  where the layer's own ``scores − 1e9`` masking would not (validation checks both agree).

:class:`UserClassifier` re-runs the model's nodes in order with the same layers; embeddings
and recurrences go through ``calls`` (gather and one WHILE loop when lowered); layers that
take a mask get the mask Keras would propagate. A sigmoid head (one unit) becomes two class
probabilities ``[1 − p, p]``; a linear head gets a softmax.

Shapes: B batch, S tokens, F features, C classes.
"""

from __future__ import annotations

import inspect
import re
import warnings
from typing import Any

import numpy as np

from edge_attn.models.layer_calls import KERAS_CALLS, LayerCalls
from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import ExportError, InputError

from .keras_derive import _describe, _is_recurrent, _nodes_in_order, _producer

WEIGHTS_METHOD, SCORES_METHOD = "attention_weights", "attention_scores"
_BIG_NEGATIVE = re.compile(r"-\s*1e\s*[+]?\s*(9|1\d|[2-9]\d)|-\s*1\.0e\s*(9|1\d)|-\s*inf|"
                           r"float\(['\"]-inf")


class LargeNegativeMaskWarning(UserWarning):
    """A custom attention layer seems to mask with a large negative constant (bad for int8)."""


def _warn_big_negative(layer: Any) -> None:
    try:
        source = inspect.getsource(type(layer))
    except (OSError, TypeError):
        return
    if _BIG_NEGATIVE.search(source):
        warnings.warn(LargeNegativeMaskWarning(
            f"layer {layer.name} ({type(layer).__name__}) seems to mask scores with a large "
            "negative constant: int8 quantization loses the real scores' resolution (see the "
            "validation report's attention agreement); edge_attn.layers.masked_softmax avoids "
            "it"), stacklevel=3)


def _pick_attention(model: Any, kind: str, name: str | None) -> Any:
    import keras

    if name is not None:
        try:
            return model.get_layer(name)
        except ValueError:
            raise InputError(f"model {model.name!r} has no layer named {name!r} (layers: "
                             f"{', '.join(x.name for x in model.layers)})") from None
    if kind == C.TEXT_CLASSIFIER:
        found = [x for x in model.layers if _taps(x)]
    else:
        found = [x for x in model.layers if isinstance(x, keras.layers.Dense)
                 and keras.activations.get(x.activation) is keras.activations.softmax
                 and x is not model.layers[-1]]
    if len(found) != 1:
        what = "none" if not found else ", ".join(x.name for x in found)
        raise InputError(f"cannot tell which layer is the attention (candidates: {what}); "
                         "name it with --attention-layer NAME (attention= in the API)")
    return found[0]


def _head_kind(model: Any) -> str:
    import keras

    out = _producer(model.outputs[0]).operation
    act = keras.activations.get(getattr(out, "activation", None) or "linear")
    width = int(model.outputs[0].shape[-1])
    if act is keras.activations.sigmoid and width == 1:
        return "sigmoid"
    if act is keras.activations.softmax and width > 1:
        return "softmax"
    if act is keras.activations.linear and width > 1:
        return "logits"
    raise InputError(f"the output {out.name} ({type(out).__name__}, width {width}) is neither "
                     "Dense(1, sigmoid), Dense(C, softmax) nor Dense(C) logits")


class UserClassifier:
    """A user's classifier with its attention tapped.

    Args:
        model: Functional ``keras.Model`` with one input and one output.
        kind: ``text-classifier`` (int ids [B, S]) or ``tabular-classifier`` (floats [B, F]).
        attention: Name of the attention layer (default: the one candidate, see module doc).
        padding: Text classifiers: the side the model was trained with padded (``post``, or
            ``pre`` — Keras ``pad_sequences``' default). The runtime always right-pads; with
            ``pre`` each row's padding is moved to the front before the model's layers and
            the attention weights are moved back, so they stay aligned with the tokens.

    Raises:
        InputError: Not a one-input functional model, no/ambiguous attention layer, a text
            attention layer without ``attention_weights``, an unknown head, a bad padding.
    """

    def __init__(self, model: Any, kind: str, attention: str | None = None,
                 padding: str = "post") -> None:
        if kind not in (C.TEXT_CLASSIFIER, C.TABULAR_CLASSIFIER):
            raise InputError(f"kind must be {C.TEXT_CLASSIFIER} or {C.TABULAR_CLASSIFIER}, "
                             f"got {kind!r}")
        if padding not in ("post", "pre"):
            raise InputError(f"padding must be 'post' or 'pre', got {padding!r}")
        if padding == "pre" and kind != C.TEXT_CLASSIFIER:
            raise InputError("--padding pre applies to token inputs (seq2seq and text "
                             "classifiers), not to a tabular classifier")
        self.padding = padding
        if not hasattr(model, "_nodes_by_depth") or len(model.inputs) != 1 \
                or len(model.outputs) != 1:
            raise InputError(f"{type(model).__name__} {getattr(model, 'name', '')!r} is not a "
                             "functional Keras classifier with one input and one output")
        self.model, self.kind = model, kind
        self.layer = _pick_attention(model, kind, attention)
        if kind == C.TEXT_CLASSIFIER and not _taps(self.layer):
            raise InputError(f"attention layer {self.layer.name} ({type(self.layer).__name__}) "
                             f"has no {WEIGHTS_METHOD}(inputs, mask=None) method returning its "
                             f"softmax weights [B, S] (nor {SCORES_METHOD}(inputs) returning "
                             "raw scores); add one so export can tap them")
        self.scores = kind == C.TEXT_CLASSIFIER and callable(
            getattr(self.layer, SCORES_METHOD, None))
        if kind == C.TEXT_CLASSIFIER and not self.scores:
            _warn_big_negative(self.layer)
        self.head = _head_kind(model)
        self.nodes = [n for n in _nodes_in_order(model) if not n.is_input]
        self.input_len = int(model.inputs[0].shape[1])
        width = int(model.outputs[0].shape[-1])
        self.num_classes = 2 if self.head == "sigmoid" else width

    def classify(self, inputs: Any, calls: LayerCalls = KERAS_CALLS) -> tuple[Any, Any]:
        """Class probabilities [B, C] and attention [B, S] or [B, F]."""
        from keras import ops, tree

        from .user_endpoints import pad_shift, roll_rows

        shift = None
        if self.padding == "pre":  # right-padded ids → the left padding the model knows
            shift = pad_shift(ops.cast(ops.cast(inputs, "bool"), "float32"))  # ids != 0
            inputs = roll_rows(inputs, shift)
        env = {id(self.model.inputs[0]): inputs}
        weights = None
        for node in self.nodes:
            if node.operation is self.layer and self.scores:
                out, weights = self._pool(node, env, calls)
            else:
                out = self._run(node, env, calls)
            if node.operation is self.layer and not self.scores:
                if self.kind == C.TABULAR_CLASSIFIER:
                    weights = out
                else:
                    args, kwargs = node.arguments.fill_in(env)
                    weights = getattr(self.layer, WEIGHTS_METHOD)(
                        args[0], mask=self._mask_for(node, env, kwargs))
            for t, v in zip(node.outputs, tree.flatten(out)):
                env[id(t)] = v
        probs = env[id(self.model.outputs[0])]
        if self.head == "sigmoid":
            probs = ops.concatenate([1.0 - probs, probs], axis=-1)
        elif self.head == "logits":
            probs = ops.softmax(probs, axis=-1)
        if weights is None:
            raise ExportError(f"attention layer {self.layer.name} is not on the model's path")
        if shift is not None:  # weights back to the runtime's order: real tokens first
            weights = roll_rows(weights, -shift)
        return probs, weights

    def _pool(self, node: Any, env: dict, calls: LayerCalls) -> tuple[Any, Any]:
        """``(pooled [B, D], weights [B, S])``: the layer's own output for Keras calls, the
        masked softmax over its ``attention_scores`` and a matmul sum when lowered."""
        from keras import ops

        from edge_attn.layers.masked_softmax import masked_softmax

        from .lowering import TFLiteCalls

        args, kwargs = node.arguments.fill_in(env)
        mask = self._mask_for(node, env, kwargs)
        weights = masked_softmax(getattr(self.layer, SCORES_METHOD)(args[0]), mask)
        if not isinstance(calls, TFLiteCalls):
            return self._run(node, env, calls), weights
        return ops.matmul(ops.expand_dims(weights, 1), args[0])[:, 0], weights

    def _mask_for(self, node: Any, env: dict, kwargs: dict) -> Any:
        """The mask Keras would pass this node: its recorded one, else its input's."""
        if kwargs.get("mask") is not None:
            return kwargs["mask"]
        mask = getattr(node.input_tensors[0], "_keras_mask", None) if node.input_tensors \
            else None
        return None if mask is None else env.get(id(mask))

    def _run(self, node: Any, env: dict, calls: LayerCalls) -> Any:
        import keras
        from keras import ops

        from .lowering import TFLiteCalls

        args, kwargs = node.arguments.fill_in(env)
        op = node.operation
        if isinstance(op, keras.layers.Embedding):
            return calls.embed(op, args[0])
        if _is_zero_compare(op, args) and isinstance(calls, TFLiteCalls):
            # An Embedding(mask_zero) mask, ids != 0, as a cast: no int32 compare in the
            # graph (int16x8 calibration wants a range for every int32 compare input).
            return ops.cast(args[0], "bool")
        if _is_recurrent(op):
            mask = self._mask_for(node, env, kwargs)
            if mask is None:
                mask = ops.ones_like(args[0][..., 0], dtype="bool")
            return calls.recur(op, args[0], ops.cast(mask, "bool"))
        if getattr(op, "_call_has_mask_arg", False) and kwargs.get("mask") is None:
            mask = self._mask_for(node, env, kwargs)
            if mask is not None:
                kwargs = {**kwargs, "mask": mask}
        try:
            return op(*args, **kwargs)
        except Exception as exc:  # a user layer failing on our inputs: name it
            raise ExportError(f"layer {_describe(node)} failed when re-run: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                              ) from None


def _is_zero_compare(op: Any, args: Any) -> bool:
    """Whether a graph node is Keras's ``not_equal(x, 0)`` (the mask of Embedding(mask_zero))."""
    return (type(op).__name__ == "NotEqual" and len(args) == 2
            and isinstance(args[1], (int, float, np.integer, np.floating)) and args[1] == 0)


def _taps(layer: Any) -> bool:
    return any(callable(getattr(layer, m, None)) for m in (WEIGHTS_METHOD, SCORES_METHOD))


def tap_classifier(model: Any, kind: str, attention: str | None = None,
                   padding: str = "post") -> UserClassifier:
    """The user's classifier with its attention exposed (see :class:`UserClassifier`)."""
    return UserClassifier(model, kind, attention, padding)


def classifier_endpoints(clf: UserClassifier, calls: LayerCalls) -> dict[str, tuple]:
    """``{"classify": (function, input_signature)}`` with the contract's tensor names."""
    import tensorflow as tf

    if clf.kind == C.TEXT_CLASSIFIER:
        spec = tf.TensorSpec([None, clf.input_len], tf.int32, name=C.CLS_INPUTS)
    else:
        spec = tf.TensorSpec([None, clf.input_len], tf.float32, name=C.CLS_INPUTS)

    def classify(inputs):
        probs, attention = clf.classify(inputs, calls)
        return {C.CLS_PROBS: probs, C.CLS_ATTENTION: attention}

    return {C.CLASSIFY: (classify, [spec])}
