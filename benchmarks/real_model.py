"""The real-data eng-fra translator: the recipe, trained once and cached.

Recipe (the README's "Train a real translator"): a fixed seeded sample of eng-fra pairs with
≤ 10 words per side from ``../shared/data/eng-fra.tsv`` split 80/10/10, cased SentencePiece
vocabularies of 8,000 pieces per side, bidirectional GRU 256 units, embeddings 128, additive
(Bahdanau) attention, Adam 2e-3 with clipping, early stopping on validation loss, a 55-minute
training budget (``--time-budget``: no epoch starts that would end past it).

``python benchmarks/real_model.py --out build/bench`` trains it (cached in --out, the same
cache ``benchmarks/run.py`` uses) and prints the training summary. The data stays in
../shared/data; a sample file is written into --out only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import trained  # noqa: E402
from common import DATA_LABEL  # noqa: E402

PAIRS = 125_000  # → 100,000 training pairs after the 80/10/10 split
RECIPE: dict[str, Any] = dict(kind="seq2seq", tokenizer="sentencepiece", case="keep",
                              max_vocab=8000, units=256, embed_dim=128, max_len=20,
                              batch_size=128, learning_rate=2e-3, epochs=12, patience=2,
                              time_budget_minutes=55,
                              attention="additive", cell="gru")


def train_real(out: Path) -> dict[str, Any] | None:
    """Train (or reuse) the eng-fra real model in ``out``; None when the data is absent."""
    tsv = trained.short_pairs_tsv(out, PAIRS)
    if tsv is None:
        print(f"note: {DATA_LABEL}/eng-fra.tsv is absent; the real model is not trained",
              file=sys.stderr)
        return None
    return trained.train_cached(out, "eng_fra_real", dict(RECIPE, data=str(tsv)), verbose=2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/bench"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    summary = train_real(args.out.resolve())
    if summary is None:
        return 0
    print(json.dumps(dict(summary, wall_seconds=round(time.perf_counter() - t, 1)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
