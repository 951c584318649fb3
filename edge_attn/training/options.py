"""Options of one training run (what ``edge-attn train`` collects from its flags)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import InputError, UnknownChoiceError

KINDS = C.MODEL_KINDS
CASES = ("auto", "keep", "lower")


@dataclass
class TrainOptions:
    """Hyper-parameters and data choice of one run.

    Exactly one of ``data`` (a TSV/CSV file) or ``task`` (a built-in task name) is set.
    """

    kind: str
    out: str
    data: str | None = None
    task: str | None = None
    attention: str = "additive"
    cell: str = "gru"
    units: int = 64
    embed_dim: int = 32
    epochs: int = 20
    batch_size: int = 64
    max_len: int = 16
    seed: int = 0
    examples: int | None = None
    learning_rate: float = 3e-3
    patience: int = 2
    time_budget_minutes: float | None = None
    min_freq: int = 1
    max_vocab: int | None = None
    max_target_vocab: int | None = None
    tokenizer: str = "word"
    case: str = "auto"
    bidirectional: bool = True
    force: bool = False
    verbose: int = 1

    def check(self) -> None:
        """Raise a clear error for a bad combination before any work starts."""
        if self.kind not in KINDS:
            raise UnknownChoiceError("model kind", self.kind, KINDS)
        if (self.data is None) == (self.task is None):
            raise InputError("give exactly one of --data FILE or --task NAME")
        for name in ("units", "embed_dim", "epochs", "batch_size", "max_len", "min_freq"):
            value = getattr(self, name)
            if value <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive, got {value}")
        if self.time_budget_minutes is not None and not self.time_budget_minutes > 0:
            raise InputError(f"--time-budget must be positive minutes, got "
                             f"{self.time_budget_minutes}")
        if self.examples is not None and self.examples < 10:
            raise InputError(f"--examples must be at least 10, got {self.examples}")
        if self.tokenizer not in ("word", "sentencepiece"):
            raise UnknownChoiceError("tokenizer", self.tokenizer, ("word", "sentencepiece"))
        if self.case not in CASES:
            raise UnknownChoiceError("case", self.case, CASES)
        if self.kind == C.SEQ2SEQ:
            from edge_attn.layers.registry import canonical_name
            from edge_attn.models.seq2seq import CELLS

            canonical_name(self.attention)  # raises UnknownChoiceError listing the scores
            if self.cell not in CELLS:
                raise UnknownChoiceError("cell", self.cell, CELLS)

    @property
    def lowercase(self) -> bool:
        """Whether tokenizers lowercase: ``auto`` keeps case for SentencePiece (real-data
        translation output is then cased) and lowercases word vocabularies (smaller)."""
        if self.case == "auto":
            return self.tokenizer == "word"
        return self.case == "lower"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
