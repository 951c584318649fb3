"""Quantization modes: a string enum and one small config dataclass (no subclass per mode)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge_attn.runtime.errors import UnknownChoiceError


class Mode(str, enum.Enum):
    """How weights and activations are stored in the exported model."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    DYNAMIC = "dynamic"
    INT8 = "int8"
    INT16X8 = "int16x8"
    INT4_WEIGHTS = "int4-weights"  # ai-edge-quantizer, see export/weight_only.py
    INT8_WEIGHTS = "int8-weights"

    @classmethod
    def parse(cls, name: str) -> Mode:
        try:
            return cls(name)
        except ValueError:
            raise UnknownChoiceError("quantization mode", name, [m.value for m in cls]) from None


@dataclass(frozen=True)
class Tolerance:
    """Limits the converted model must meet against Keras on the validation inputs.

    Attributes:
        max_abs_diff: Max |Δ| of output probabilities (next-token or class).
        mean_abs_diff: Mean |Δ| of output probabilities.
        token_agreement: Min share of greedy output tokens equal to Keras's.
        label_agreement: Min share of classifier labels equal to Keras's.
        attention_argmax_agreement: Min share of attention argmaxes equal to Keras's.
    """

    max_abs_diff: float
    mean_abs_diff: float
    token_agreement: float
    label_agreement: float
    attention_argmax_agreement: float


@dataclass(frozen=True)
class QuantConfig:
    """Everything the converter needs to know about one mode.

    Attributes:
        mode: The mode.
        calibrate: Whether a representative dataset is required.
        tolerance: Validation limits for this mode.
    """

    mode: Mode
    calibrate: bool
    tolerance: Tolerance


# float32 must reproduce Keras: identical tokens and labels, probabilities to float rounding.
# Quantized modes are held to the agreement targets of the export issue (tokens ≥ 98 %,
# labels ≥ 99 % for int8) and a mean |Δ| bound: one near-tie that flips between two tokens
# moves a probability by up to 1, so max |Δ| is reported but not a gate for them.
TOLERANCES: dict[Mode, Tolerance] = {
    Mode.FLOAT32: Tolerance(1e-4, 1e-6, 1.0, 1.0, 0.999),
    Mode.FLOAT16: Tolerance(0.05, 1e-3, 0.99, 0.995, 0.98),
    Mode.DYNAMIC: Tolerance(1.0, 0.01, 0.98, 0.99, 0.95),
    Mode.INT8: Tolerance(1.0, 0.01, 0.98, 0.99, 0.90),
    Mode.INT16X8: Tolerance(1.0, 0.01, 0.98, 0.99, 0.95),
    Mode.INT4_WEIGHTS: Tolerance(1.0, 0.01, 0.95, 0.99, 0.90),
    Mode.INT8_WEIGHTS: Tolerance(1.0, 0.01, 0.98, 0.99, 0.95),
}


def quant_config(mode: str | Mode) -> QuantConfig:
    """The config of ``mode`` (a name or a :class:`Mode`)."""
    m = mode if isinstance(mode, Mode) else Mode.parse(mode)
    return QuantConfig(m, m in (Mode.INT8, Mode.INT16X8), TOLERANCES[m])
