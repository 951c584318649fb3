"""Export spec of the built-in attention seq2seq model (``encode`` + ``decode_step``).

Calibration: encoder inputs are real sentences; ``decode_step`` inputs are the real decoder
states met while teacher-forcing the Keras model over the same sentences (not random
tensors). Validation: teacher-forced next-token probabilities (max / mean |Δ|),
attention-argmax agreement, and the greedy tokens of the runtime's own
:class:`~edge_attn.runtime.translator.Translator` against the Keras step loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from edge_attn.data.prepare import encode_pairs, fits
from edge_attn.models.greedy import keras_greedy
from edge_attn.runtime import constants as C
from edge_attn.runtime.artifact import Artifact, sha256_hex
from edge_attn.runtime.config import (
    ArtifactConfig,
    Seq2SeqConfig,
    ShortlistConfig,
    SignatureDecl,
    TokenizerSpec,
)
from edge_attn.runtime.decoder import decode_feeds, encode_feeds, source_mask
from edge_attn.runtime.errors import ExportError
from edge_attn.runtime.session import Session
from edge_attn.runtime.shortlist import Shortlist

from .examples import Examples
from .lowering import TFLiteCalls
from .quantization import QuantConfig
from .shortlist_step import shortlist_endpoint, with_shortlist
from .specs import CheckpointSpec, Endpoints, Representative, Tick, header, heldout_rows
from .task_metrics import lowercases, seq2seq_scores
from .validate import diff

CALIBRATION_BATCH = 8


def _read_pairs(path: str) -> list:
    from edge_attn.data.tsv import read_pairs

    return read_pairs(path)


class Seq2SeqSpec(CheckpointSpec):
    """The built-in :class:`~edge_attn.models.seq2seq.Seq2Seq` from a training checkpoint."""

    kind = C.SEQ2SEQ
    agreement = "token_agreement"
    reader = staticmethod(_read_pairs)

    encoder_loop = "while"

    def __init__(self, ckpt: Any) -> None:
        super().__init__(ckpt)
        self.source_len = int(self.ckpt_config["max_source_len"])
        self.target_len = int(self.ckpt_config["max_target_len"])
        self.src, self.tgt = ckpt.tokenizers[C.SOURCE], ckpt.tokenizers[C.TARGET]
        self.states = list(self.model.state_names)
        self.shortlist: Shortlist | None = None
        self.shortlist_hit_rate: float | None = None

    def use_shortlist(self, path: str, frequent: int = 512, per_source: int = 24) -> None:
        """Learn a vocabulary shortlist from the training pairs in ``path`` (``src⇥tgt``):
        the ``frequent`` most frequent target ids plus ``per_source`` per source id (see
        :func:`~edge_attn.data.shortlist.learn_shortlist`); its hit rate is measured on the
        held-out test pairs."""
        from edge_attn.data.shortlist import learn_shortlist

        hp = self.model.hp
        pairs = self._id_pairs(_read_pairs(path))
        if not pairs:
            raise ExportError(f"{path}: no pairs to learn a shortlist from")
        self.shortlist = learn_shortlist(pairs, int(hp["source_vocab"]),
                                         int(hp["target_vocab"]), frequent, per_source)
        test = self._id_pairs(heldout_rows(self.ckpt, None, "test", None))
        self.shortlist_hit_rate = round(self.shortlist.hit_rate(
            test, self.tgt.EOS_ID, (self.tgt.PAD_ID, self.tgt.BOS_ID)), 4)

    def _id_pairs(self, rows: list) -> list[tuple[list[int], list[int]]]:
        return [(self.src.encode(a, add_eos=False), self.tgt.encode(b, add_eos=True))
                for a, b, *_ in rows]

    def shortlist_head(self) -> np.ndarray:
        """int32[F] the shortlist's head columns (the same ids the runtime computes)."""
        assert self.shortlist is not None
        return self.shortlist.head(self.tgt.EOS_ID, (self.tgt.PAD_ID, self.tgt.BOS_ID))

    def shortlist_bytes(self) -> bytes | None:
        """The ``shortlist.bin`` member, if a shortlist is used."""
        return None if self.shortlist is None else self.shortlist.to_bytes()

    def encode(self, rows: list[list[Any]]) -> Examples:
        """Pairs that fit the model's lengths, encoded as in training."""
        pairs = fits([(a, b) for a, b in rows], self.src, self.tgt, self.source_len,
                     self.target_len)
        arr = encode_pairs(pairs, self.src, self.tgt, self.source_len, self.target_len)
        return Examples([a for a, _ in pairs], arr["source"], arr["target_in"],
                        arr["target_out"], references=[b for _, b in pairs])

    def endpoints(self, calls: TFLiteCalls) -> Endpoints:
        import tensorflow as tf

        model, names = self.model, self.states
        s, h = self.source_len, model.hp["units"]
        k = int(model.attention.precompute(tf.zeros([1, s, h])).shape[-1])  # score-dependent

        def encode(tokens, mask):
            memory, keys, states = model.encode(tokens, mask, calls)
            return {C.ENC_MEMORY: memory, C.ENC_KEYS: keys, **dict(zip(names, states))}

        def decode_step(token, *rest):
            states, (memory, keys, mask) = list(rest[: len(names)]), rest[len(names):]
            logits, new_states, attention = model.step(token, states, memory, keys, mask, calls)
            return {C.DEC_LOG_PROBS: tf.nn.log_softmax(logits, -1), C.DEC_ATTENTION: attention,
                    **dict(zip(names, new_states))}

        state_specs = [tf.TensorSpec([None, 1 if n == "state_position" else h], tf.float32,
                                     name=n) for n in names]
        decode_specs = [tf.TensorSpec([None], tf.int32, name=C.DEC_TOKEN), *state_specs,
                        tf.TensorSpec([None, s, h], tf.float32, name=C.DEC_MEMORY),
                        tf.TensorSpec([None, s, k], tf.float32, name=C.DEC_KEYS),
                        tf.TensorSpec([None, s], tf.float32, name=C.DEC_MASK)]
        eps = {
            C.ENCODE: (encode, [tf.TensorSpec([None, s], tf.int32, name=C.ENC_TOKENS),
                                tf.TensorSpec([None, s], tf.float32, name=C.ENC_MASK)]),
            C.DECODE_STEP: (decode_step, decode_specs),
        }
        if self.shortlist is not None:
            head = self.shortlist_head()
            eps[C.DECODE_STEP_SHORTLIST] = shortlist_endpoint(model, tf, calls, decode_specs,
                                                              head)
            eps[C.DECODE_STEP_SHORTLIST_TOP] = shortlist_endpoint(model, tf, calls,
                                                                  decode_specs, head, top=True)
        return eps

    def representative(self, examples: Examples, tick: Tick | None) -> Representative:
        if self.shortlist is None:
            return lambda: self._calibration(examples, tick)
        never = (self.tgt.PAD_ID, self.tgt.BOS_ID)
        return lambda: with_shortlist(self._calibration(examples, tick), self.shortlist,
                                      self.tgt.EOS_ID, never)

    def _calibration(self, ex: Examples, tick: Tick | None) -> Iterator[tuple[str, dict]]:
        model = self.model
        # Whole batches only: a last, smaller batch made the calibrated WHILE encoder fail
        # ("CONCATENATION 8 != 4"); at least MIN_SAMPLES (= one batch) examples are given.
        usable = max(CALIBRATION_BATCH, len(ex.source) // CALIBRATION_BATCH * CALIBRATION_BATCH)
        for start in range(0, min(usable, len(ex.source)), CALIBRATION_BATCH):
            src = ex.source[start:start + CALIBRATION_BATCH]
            tgt_in = ex.target_in[start:start + CALIBRATION_BATCH]
            mask = source_mask(src, self.src.PAD_ID)
            yield C.ENCODE, encode_feeds(src, mask)
            memory, keys, states = model.encode(src, mask)
            memory, keys = np.asarray(memory), np.asarray(keys)
            for t in range(tgt_in.shape[1]):
                if not (tgt_in[:, t] != self.tgt.PAD_ID).any():
                    break
                yield C.DECODE_STEP, decode_feeds(
                    tgt_in[:, t], memory, keys, mask,
                    {n: np.asarray(v) for n, v in zip(self.states, states)})
                _, states, _ = model.step(tgt_in[:, t], states, memory, keys, mask)
            if tick:
                tick(len(src))

    def metrics(self, artifact: Artifact, session: Session,
                examples: Examples) -> dict[str, float]:
        out = {**self._teacher_forced(session, examples),
               **self._greedy_metrics(artifact, session, examples)}
        if self.shortlist is not None:
            out.update(self._shortlist_metrics(artifact, session, examples))
        return out

    def _shortlist_metrics(self, artifact: Artifact, session: Session,
                           ex: Examples) -> dict[str, float]:
        """Hit rate, and greedy sentences identical with and without the shortlist."""
        from edge_attn.runtime.translator import Translator

        tr = Translator(artifact, session=session)
        full = [t.ids for t in tr.translate(ex.texts, shortlist=False)]
        short = [t.ids for t in tr.translate(ex.texts, shortlist=True)]
        return {"shortlist_hit_rate": float(self.shortlist_hit_rate or 0.0),
                "shortlist_sentence_agreement": float(np.mean([a == b for a, b in
                                                               zip(full, short)]))}

    def _teacher_forced(self, session: Session, ex: Examples) -> dict[str, float]:
        model, names = self.model, self.states
        src, tgt_in = ex.source, ex.target_in
        mask = source_mask(src, self.src.PAD_ID)
        k_mem, k_keys, k_states = model.encode(src, mask)
        out = session.run(C.ENCODE, encode_feeds(src, mask))
        l_states = {n: out[n] for n in names}
        lp_k, lp_l, att_k, att_l, real = [], [], [], [], []
        for t in range(tgt_in.shape[1]):
            tok = tgt_in[:, t]
            logits, k_states, a_k = model.step(tok, k_states, k_mem, k_keys, mask)
            res = session.run(C.DECODE_STEP, decode_feeds(
                tok, out[C.ENC_MEMORY], out[C.ENC_KEYS], mask, l_states))
            l_states = {n: res[n] for n in names}
            logits = np.asarray(logits, "float64")
            probs = np.exp(logits - logits.max(-1, keepdims=True))
            lp_k.append(probs / probs.sum(-1, keepdims=True))
            lp_l.append(np.exp(res[C.DEC_LOG_PROBS]))
            att_k.append(np.asarray(a_k))
            att_l.append(res[C.DEC_ATTENTION])
            real.append(tok != self.tgt.PAD_ID)
        w = np.stack(real, 1)
        real_rows = np.broadcast_to(w[..., None], w.shape + lp_k[0].shape[-1:])
        mx, mean = diff(np.stack(lp_k, 1), np.stack(lp_l, 1), real_rows)
        agree = (np.stack(att_k, 1).argmax(-1) == np.stack(att_l, 1).argmax(-1))[w]
        return {"max_abs_diff": mx, "mean_abs_diff": mean,
                "attention_argmax_agreement": float(agree.mean())}

    def reference_greedy(self, source: np.ndarray) -> list[list[int]]:
        """The Keras model's greedy ids (its own step loop), per padded source row."""
        return keras_greedy(self.model, source)[0]

    def _greedy_metrics(self, artifact: Artifact, session: Session,
                        ex: Examples) -> dict[str, float]:
        """Greedy output of the artifact (the runtime's Translator) vs Keras: token /
        sentence agreement, and corpus BLEU / chrF of both decoded texts against the
        references (see :mod:`.task_metrics`). Over the full vocabulary, as Keras decodes:
        a shortlist's own loss is reported (``shortlist_bleu`` …), not gated."""
        from edge_attn.runtime.translator import Translator

        tr = Translator(artifact, session=session)
        ref = self.reference_greedy(ex.source)
        got = [t.ids for t in tr.translate(ex.texts, shortlist=False)]
        same = total = 0
        for a, b in zip(ref, got):
            same += sum(x == y for x, y in zip(a, b))
            total += max(len(a), len(b), 1)
        out = {"token_agreement": same / total,
               "sentence_agreement": float(np.mean([a == b for a, b in zip(ref, got)]))}
        references = ex.references or [self.tgt.decode(r) for r in ex.target_out.tolist()]
        lower = lowercases(self.tgt)
        keras = [self.tgt.decode(i) for i in ref]
        out.update(seq2seq_scores(keras, [self.tgt.decode(i) for i in got], references, lower))
        if tr.has_shortlist:
            short = [self.tgt.decode(t.ids) for t in tr.translate(ex.texts, shortlist=True)]
            scores = seq2seq_scores(keras, short, references, lower)
            out.update({f"shortlist_{k}": scores[f"tflite_{k}"] for k in ("bleu", "chrf")})
            out.update({f"shortlist_{k}_delta": scores[f"{k}_delta"] for k in ("bleu", "chrf")})
        out["references_lowercased"] = float(lower)
        return out

    def config(self, model_bytes: bytes, quant: QuantConfig,
               signatures: dict[str, SignatureDecl]) -> ArtifactConfig:
        """Lengths, state names and both tokenizer specs; the vocabulary sizes are the
        model's embedding rows (source) and output width (target)."""
        hp = self.model.hp
        for name, tok, size in ((C.SOURCE, self.src, hp["source_vocab"]),
                                (C.TARGET, self.tgt, hp["target_vocab"])):
            if tok.vocab_size != size:
                raise ExportError(f"{name} tokenizer has {tok.vocab_size} tokens, the model's "
                                  f"{name} vocabulary {size}")
        shortlist = None
        if self.shortlist is not None:
            sl = self.shortlist
            shortlist = ShortlistConfig(len(sl.always), sl.per_source, len(sl.table),
                                        sha256_hex(sl.to_bytes()), self.shortlist_hit_rate,
                                        len(self.shortlist_head()))
        part = Seq2SeqConfig(
            self.source_len, self.target_len, tuple(self.states),
            TokenizerSpec(int(hp["source_vocab"]), add_bos=False, add_eos=False),
            TokenizerSpec(int(hp["target_vocab"])), shortlist, self.encoder_loop)
        return header(self.kind, model_bytes, quant, signatures, self.ckpt_config,
                      seq2seq=part)
