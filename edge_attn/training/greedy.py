"""Moved to :mod:`edge_attn.models.greedy` (the Keras reference, next to the models); kept
importable."""

from edge_attn.models.greedy import exact_match, keras_greedy

__all__ = ["exact_match", "keras_greedy"]
