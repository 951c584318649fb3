"""Moved to :mod:`edge_attn.data.prepare` (shared by training and export); kept importable."""

from edge_attn.data.prepare import encode_pairs, fits, pad

__all__ = ["encode_pairs", "fits", "pad"]
