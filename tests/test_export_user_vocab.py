"""User vocabularies (TextVectorization or token files) → the runtime's VocabTokenizer."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edge_attn.export.user_vocab import (
    check_size,
    from_text_vectorization,
    parse_specials,
    read_vocab_file,
)
from edge_attn.runtime.errors import DataError, InputError
from edge_attn.runtime.vocab_tokenizer import VocabTokenizer

TEXTS = ["[start] Hello, World! it's 2019-02-15 [end]", "Fr. 15 Feb. 2019", "the  cat\tsat"]


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower",
                                         "strip_punctuation", None])
@pytest.mark.parametrize("split", ["whitespace", "character"])
def test_ids_equal_text_vectorization(standardize, split) -> None:
    import keras

    layer = keras.layers.TextVectorization(standardize=standardize, split=split,
                                           output_sequence_length=60)
    layer.adapt(TEXTS[:2])
    tok = from_text_vectorization(layer)
    for text, row in zip(TEXTS, np.asarray(layer(TEXTS)).tolist()):
        ids = tok.encode(text, add_eos=False)
        assert row == ids + [0] * (60 - len(ids))
    assert tok.PAD_ID == 0 and tok.UNK_ID == 1 and tok.BOS_ID is None
    again = VocabTokenizer.from_dict(tok.to_dict())
    assert again.vocab == tok.vocab
    assert again.encode(TEXTS[0], add_eos=False) == tok.encode(TEXTS[0], add_eos=False)
    with pytest.raises(InputError, match="no eos token"):
        tok.encode(TEXTS[0], add_eos=True)


def test_custom_standardize_is_refused() -> None:
    import keras

    def my_standardize(x):
        return x

    layer = keras.layers.TextVectorization(standardize=my_standardize)
    layer.adapt(TEXTS)
    with pytest.raises(InputError, match="custom standardize \\(my_standardize\\)"):
        from_text_vectorization(layer)


def test_file_with_named_specials(tmp_path) -> None:
    path = tmp_path / "target.txt"
    path.write_text("\n".join(["", "[UNK]", "2019", "[start]", "feb", "[end]", "15"]) + "\n",
                    encoding="utf-8")
    tok = read_vocab_file(path, parse_specials("pad=,unk=[UNK],bos=[start],eos=[end]"))
    assert (tok.PAD_ID, tok.UNK_ID, tok.BOS_ID, tok.EOS_ID) == (0, 1, 3, 5)
    assert tok.encode("Feb 15, 2019!", add_bos=True) == [3, 4, 6, 2, 5]
    assert tok.decode([4, 6, 2, 5, 4]) == "feb 15 2019"
    with pytest.raises(InputError, match="not in the vocabulary: eos='<eos>'"):
        read_vocab_file(path, parse_specials("bos=[start],eos=<eos>"))
    with pytest.raises(InputError, match="bad --specials part 'start'"):
        parse_specials("pad=,start")
    with pytest.raises(DataError, match="vocabulary file not found"):
        read_vocab_file(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="source vocabulary has 7 tokens.*embedding has 9"):
        check_size(tok, 9, "source")


def test_vocab_tokenizer_stays_tensorflow_free() -> None:
    assert "tensorflow" not in sys.modules.get(
        "edge_attn.runtime.vocab_tokenizer").__dict__
