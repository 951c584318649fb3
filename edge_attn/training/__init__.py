"""Training: data → tokenizers → Keras fit → checkpoint directory (needs TensorFlow)."""

from __future__ import annotations

from typing import Any

from edge_attn.runtime import constants as C

from .options import TrainOptions


def train(opts: TrainOptions) -> dict[str, Any]:
    """Train the model kind named in ``opts`` and return the run summary."""
    opts.check()
    from .checkpoint import check_out_dir

    check_out_dir(opts.out, opts.force)  # fail before minutes of training, not after
    if opts.kind == C.SEQ2SEQ:
        from .seq2seq_train import train_seq2seq

        return train_seq2seq(opts)
    if opts.kind == C.TEXT_CLASSIFIER:
        from .classifier_train import train_text_classifier

        return train_text_classifier(opts)
    from .classifier_train import train_tabular_classifier

    return train_tabular_classifier(opts)


__all__ = ["TrainOptions", "train"]
