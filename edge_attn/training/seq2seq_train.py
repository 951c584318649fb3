"""Train an attention seq2seq model end to end and write a checkpoint."""

from __future__ import annotations

from typing import Any

import keras

from edge_attn.data.prepare import encode_pairs, fits
from edge_attn.models.greedy import exact_match, keras_greedy
from edge_attn.runtime import constants as C
from edge_attn.runtime.errors import DataError
from edge_attn.runtime.tokenizer import SentencePieceTokenizer, WordTokenizer

from .checkpoint import save_checkpoint
from .fit import compile_and_fit, distribution_scope
from .options import TrainOptions

HELDOUT_KEEP = 500


def _load_pairs(opts: TrainOptions) -> tuple[list[tuple[str, str]], str]:
    if opts.task:
        from edge_attn.data.tasks import get_task, load_task

        if get_task(opts.task).kind != "seq2seq":
            raise DataError(f"task {opts.task!r} is not a seq2seq task")
        return load_task(opts.task, opts.examples, opts.seed), f"task:{opts.task}"
    from edge_attn.data.tsv import read_pairs

    pairs = read_pairs(opts.data)
    if opts.examples:
        pairs = pairs[: opts.examples]
    return pairs, f"file:{opts.data}"


def _tokenizers(opts: TrainOptions, train: list[tuple[str, str]]):
    if opts.tokenizer == "sentencepiece":
        size = opts.max_vocab or 1000
        return (SentencePieceTokenizer.train([s for s, _ in train], vocab_size=size,
                                             seed=opts.seed, lowercase=opts.lowercase),
                SentencePieceTokenizer.train([t for _, t in train], vocab_size=size,
                                             seed=opts.seed, lowercase=opts.lowercase))
    return (WordTokenizer.build([s for s, _ in train], min_freq=opts.min_freq,
                                max_size=opts.max_vocab, lowercase=opts.lowercase),
            WordTokenizer.build([t for _, t in train], min_freq=opts.min_freq,
                                max_size=opts.max_target_vocab or opts.max_vocab,
                                lowercase=opts.lowercase))


def train_seq2seq(opts: TrainOptions) -> dict[str, Any]:
    """Load data, split, tokenize, fit, measure greedy exact match, save a checkpoint.

    Returns:
        A JSON-serialisable summary (metrics, sizes, timings, checkpoint path).
    """
    from edge_attn.data.split import split_list
    from edge_attn.models.seq2seq import Seq2Seq

    keras.utils.set_random_seed(opts.seed)
    pairs, origin = _load_pairs(opts)
    train, val, test = split_list(pairs, opts.seed)
    src_tok, tgt_tok = _tokenizers(opts, train)
    longest_src = max(len(src_tok.split(s)) for s, _ in train)
    longest_tgt = max(len(tgt_tok.split(t)) for _, t in train) + 1
    s_len, t_len = min(opts.max_len, longest_src), min(opts.max_len + 1, longest_tgt)
    splits = {name: fits(p, src_tok, tgt_tok, s_len, t_len)
              for name, p in (("train", train), ("validation", val), ("test", test))}
    if len(splits["train"]) < 10 or not splits["validation"]:
        raise DataError(f"{origin}: too few pairs fit --max-len {opts.max_len} "
                        f"({len(splits['train'])} train, {len(splits['validation'])} val)")
    arrays = {k: encode_pairs(v, src_tok, tgt_tok, s_len, t_len) for k, v in splits.items()}
    tr, va = arrays["train"], arrays["validation"]
    with distribution_scope():
        model = Seq2Seq(src_tok.vocab_size, tgt_tok.vocab_size, s_len, t_len, units=opts.units,
                        embed_dim=opts.embed_dim, cell=opts.cell, bidirectional=opts.bidirectional,
                        attention=opts.attention)
        model((tr["source"][:2], tr["target_in"][:2]))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        fit = compile_and_fit(model, loss, [], (tr["source"], tr["target_in"]), tr["target_out"],
                              (va["source"], va["target_in"]), va["target_out"], opts.epochs,
                              opts.batch_size, opts.learning_rate, opts.patience, opts.verbose,
                              opts.time_budget_minutes and opts.time_budget_minutes * 60)
    metrics = {}
    for name in ("validation", "test"):
        if len(splits[name]):
            ids, _ = keras_greedy(model, arrays[name]["source"])
            metrics[f"{name}_exact_match"] = exact_match(ids, arrays[name]["target_out"])
    config = {"kind": C.SEQ2SEQ, "model": model.hp, "data": origin, "options": opts.to_dict(),
              "metrics": metrics, "training": fit, "sizes": {k: len(v) for k, v in
                                                            splits.items()},
              "max_source_len": s_len, "max_target_len": t_len}
    heldout = {k: [list(p) for p in splits[k][:HELDOUT_KEEP]] for k in ("validation", "test")}
    path = save_checkpoint(opts.out, model, config,
                           {"source": src_tok, "target": tgt_tok}, heldout, opts.force)
    return {"checkpoint": str(path), "kind": C.SEQ2SEQ, "data": origin, "metrics": metrics,
            "epochs_run": fit["epochs_run"], "seconds": fit["seconds"],
            "sizes": config["sizes"], "params": int(model.count_params())}
