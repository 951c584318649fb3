"""Names fixed by the artifact contract between export/ and runtime/ (one definition)."""

from __future__ import annotations

FORMAT_NAME = "edge-attn-artifact"
FORMAT_VERSION = 2  # 2: typed config with kind parts and vocabulary sizes (1 still reads)

# Zip members of an artifact (stored uncompressed).
MODEL_MEMBER = "model.tflite"
CONFIG_MEMBER = "config.json"
TOKENIZERS_MEMBER = "tokenizers.json"
VALIDATION_MEMBER = "validation.json"
REQUIRED_MEMBERS = (MODEL_MEMBER, CONFIG_MEMBER, TOKENIZERS_MEMBER)

# Model kinds.
SEQ2SEQ = "seq2seq"
TEXT_CLASSIFIER = "text-classifier"
TABULAR_CLASSIFIER = "tabular-classifier"
MODEL_KINDS = (SEQ2SEQ, TEXT_CLASSIFIER, TABULAR_CLASSIFIER)

# Signature names and their fixed tensor names.
ENCODE = "encode"
DECODE_STEP = "decode_step"
CLASSIFY = "classify"

ENC_TOKENS, ENC_MASK = "tokens", "mask"
ENC_MEMORY, ENC_KEYS = "memory", "keys"
DEC_TOKEN, DEC_MEMORY, DEC_KEYS, DEC_MASK = "token", "memory", "keys", "mask"
DEC_LOG_PROBS, DEC_ATTENTION = "log_probs", "attention"
# Optional vocabulary-shortlist step: decode_step's inputs plus extra_candidates int32[E]
# (candidates beyond the head the step scores from constant rows, one set for every row);
# artifacts before the head took every candidate of every row as candidates int32[B, C].
DECODE_STEP_SHORTLIST = "decode_step_shortlist"
DEC_EXTRA_CANDIDATES = "extra_candidates"
DEC_CANDIDATES = "candidates"
UNBATCHED = (DEC_EXTRA_CANDIDATES,)  # step inputs without a batch dimension
# Optional beam twin of the shortlist step: the same inputs and outputs plus each row's
# SHORTLIST_TOP best columns, best first (ties: lower column first), and their log
# probabilities from one in-graph top-k — what a beam reads instead of the whole row. A
# signature of its own, so greedy steps do not pay for the top-k and switching between greedy
# and beam does not re-allocate a step. Artifacts without it beam-decode from log_probs.
DECODE_STEP_SHORTLIST_TOP = "decode_step_shortlist_top"
DEC_TOP_LOG_PROBS, DEC_TOP_COLUMNS = "top_log_probs", "top_columns"
SHORTLIST_TOP = 16
SHORTLIST_MEMBER = "shortlist.bin"
CLS_INPUTS, CLS_PROBS, CLS_ATTENTION = "inputs", "probs", "attention"
STATE_PREFIX = "state_"  # decoder state tensors are state_h, state_c, state_position ...

# Quantization modes (the string values of export.quantization.Mode).
QUANT_MODES = ("float32", "float16", "dynamic", "int8", "int16x8", "int4-weights",
               "int8-weights")
# Modes some backend cannot run: mode -> (backends that can, why the others cannot).
# tflite-runtime 2.14's DEQUANTIZE kernel has no INT4 input (fails at preparation).
MODE_BACKENDS = {"int4-weights": (("ai-edge-litert",),
                                  "tflite-runtime 2.14 has no int4 DEQUANTIZE kernel")}

# Tokenizer keys inside TOKENIZERS_MEMBER.
SOURCE, TARGET = "source", "target"

# Decode-time attention modes of the seq2seq runtime (see runtime/translator.py).
ATTENTION_MODES = ("soft", "hard", "monotonic")

# What to install for train/export (TensorFlow); shown by every "needs TensorFlow" error.
TRAIN_HINT = "pip install 'edge-attn[train]'"

# Decoding limits (documented in the README): longest output and widest beam accepted.
MAX_DECODE_LEN = 512
MAX_BEAM = 64
