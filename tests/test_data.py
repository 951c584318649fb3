"""Tests of edge_attn.data: file readers, synthetic tasks, splits and the task registry."""

from __future__ import annotations

import datetime as dt
import re
import sys

import numpy as np
import pytest

from edge_attn.data.column import generate_column
from edge_attn.data.dates import (
    FORMATS,
    LOCALES,
    DateFormat,
    generate_date_examples,
    generate_dates,
    ordinal_suffix,
    render_date,
)
from edge_attn.data.numbers import generate_numbers, number_pair, sample_numbers
from edge_attn.data.split import split_indices, split_list
from edge_attn.data.tasks import TASKS, load_task
from edge_attn.data.tsv import read_labeled, read_pairs
from edge_attn.runtime.errors import DataError, InputError, UnknownChoiceError

# --- TSV / CSV readers -----------------------------------------------------------------------


def write(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_read_pairs_good_file(tmp_path):
    text = (
        "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\r\n"
        "\n"
        "Hi.\tSalut !\n"
        "  I won! \t J'ai gagné ! \n"
    )
    path = write(tmp_path, "pairs.tsv", text)
    assert read_pairs(path) == [("Go.", "Va !"), ("Hi.", "Salut !"), ("I won!", "J'ai gagné !")]
    assert read_pairs(str(path)) == read_pairs(path)


def test_read_pairs_strips_bom(tmp_path):
    path = write(tmp_path, "bom.tsv", b"\xef\xbb\xbfHi.\tSalut !\n")
    assert read_pairs(path) == [("Hi.", "Salut !")]


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        ("a\tb\nc\td\nno tab here\n", 3, "no tab"),
        ("a\tb\n\n\t x\n", 3, "empty source"),
        ("a\tb\nc\t  \n", 2, "empty target"),
        ("a\tb\tc\td\n", 1, "got 4"),
    ],
)
def test_read_pairs_malformed_line(tmp_path, content, line, what):
    path = write(tmp_path, "bad.tsv", content)
    with pytest.raises(DataError) as info:
        read_pairs(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert what in str(info.value)


def test_read_pairs_empty_missing_and_directory(tmp_path):
    for name, content in (
        ("empty.tsv", b""),
        ("blank.tsv", b"\n \n\t\n"),
        ("bom.tsv", b"\xef\xbb\xbf"),
    ):
        with pytest.raises(DataError, match="file is empty"):
            read_pairs(write(tmp_path, name, content))
    with pytest.raises(DataError, match=r"nope\.tsv: file not found"):
        read_pairs(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="cannot read"):
        read_pairs(tmp_path)


def test_read_pairs_invalid_utf8_names_line(tmp_path):
    path = write(tmp_path, "latin1.tsv", b"ok\tbien\n" + "café\tcoffee\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.tsv:2: invalid UTF-8"):
        read_pairs(path)


def test_read_labeled_tsv_with_header_and_tabs(tmp_path):
    path = write(tmp_path, "sms.tsv", "label\ttext\nham\tOk lar...\nspam\tWin\tnow!\n\n")
    assert read_labeled(path) == [("ham", "Ok lar..."), ("spam", "Win\tnow!")]


def test_read_labeled_tsv_errors(tmp_path):
    with pytest.raises(DataError, match=r"l\.tsv:2: expected 'label<TAB>text'"):
        read_labeled(write(tmp_path, "l.tsv", "ham\thello\njust text\n"))
    with pytest.raises(DataError, match=r"e\.tsv:1: empty label"):
        read_labeled(write(tmp_path, "e.tsv", "\thello\n"))
    with pytest.raises(DataError, match="no data lines"):
        read_labeled(write(tmp_path, "h.tsv", "label\ttext\n"))


def test_read_labeled_csv(tmp_path):
    content = 'label,text\nham,"Hello, world"\nspam,"Say ""hi""\nnow",,\n\npos,ok\n'
    path = write(tmp_path, "data.CSV", "\ufeff" + content)
    assert read_labeled(path) == [
        ("ham", "Hello, world"),
        ("spam", 'Say "hi"\nnow'),
        ("pos", "ok"),
    ]


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        ("ham,hi\nlonely\n", 2, "1 column"),
        ("ham,hi\nspam,a,b\n", 2, "got 3"),
        ("ham,hi\n\nspam,\n", 3, "empty text"),
    ],
)
def test_read_labeled_csv_malformed(tmp_path, content, line, what):
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(DataError) as info:
        read_labeled(path)
    assert str(info.value).startswith(f"{path}:{line}: ") and what in str(info.value)


def test_read_labeled_csv_invalid_utf8(tmp_path):
    path = write(tmp_path, "x.csv", b"ham,hi\nspam,\xff\xfe\n")
    with pytest.raises(DataError, match=r"x\.csv:2: invalid UTF-8"):
        read_labeled(path)


# --- dates -----------------------------------------------------------------------------------


def test_ordinal_suffix():
    days = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31]
    assert [ordinal_suffix(d) for d in days] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (DateFormat("en", "the {ord} of {month}, {year}", True), "the 3rd of March, 2021"),
        (DateFormat("en", "{month} {ord} {year}", True), "March 3rd 2021"),
        (DateFormat("en_US", "full"), "Wednesday, March 3, 2021"),
        (DateFormat("en_US", "short"), "3/3/21"),
        (DateFormat("en_GB", "dd/MM/y"), "03/03/2021"),
        (DateFormat("fr_FR", "long"), "3 mars 2021"),
        (DateFormat("de_DE", "long"), "3. März 2021"),
        (DateFormat("es_ES", "long"), "3 de marzo de 2021"),
        (DateFormat("de_DE", "d.M.yy"), "3.3.21"),
    ],
)
def test_render_date_known_values(fmt, expected):
    assert render_date(dt.date(2021, 3, 3), fmt) == expected


def test_generate_dates_deterministic():
    assert generate_dates(50, seed=3) == generate_dates(50, seed=3)
    assert generate_dates(50, seed=3) != generate_dates(50, seed=4)
    assert generate_dates(0, seed=1) == []


def test_generate_dates_targets_are_the_rendered_dates():
    examples = generate_date_examples(400, seed=7)
    assert [(e.source, e.target) for e in examples] == generate_dates(400, seed=7)
    for ex in examples:
        parsed = dt.date.fromisoformat(ex.target)
        assert parsed == ex.date
        assert dt.date(1950, 1, 1) <= parsed <= dt.date(2049, 12, 31)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ex.target)
        assert render_date(ex.date, ex.format) == ex.source
    assert {e.format.locale for e in examples} == {*LOCALES, "en"}
    assert len({e.format for e in examples}) >= 25


def _parse_en_us_short(s: str) -> dt.date:
    m, d, yy = (int(p) for p in s.split("/"))
    return dt.date(1900 + yy if yy >= 50 else 2000 + yy, m, d)


def _parse_ordinal(s: str) -> dt.date:
    s = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", s).replace("the ", "").replace(" of", "")
    s = s.replace(",", "")
    for pattern in ("%d %B %Y", "%B %d %Y"):
        try:
            return dt.datetime.strptime(s, pattern).date()
        except ValueError:
            pass
    raise AssertionError(f"cannot parse {s!r}")


# Second path: parse sources back with the standard library (C locale, English names).
PARSERS = {
    DateFormat("en_US", "MMMM d, y"): lambda s: dt.datetime.strptime(s, "%B %d, %Y").date(),
    DateFormat("en_US", "full"): lambda s: dt.datetime.strptime(s, "%A, %B %d, %Y").date(),
    DateFormat("en_GB", "long"): lambda s: dt.datetime.strptime(s, "%d %B %Y").date(),
    DateFormat("en_GB", "dd/MM/y"): lambda s: dt.datetime.strptime(s, "%d/%m/%Y").date(),
    DateFormat("de_DE", "medium"): lambda s: dt.datetime.strptime(s, "%d.%m.%Y").date(),
    DateFormat("en_US", "short"): _parse_en_us_short,
    **{f: _parse_ordinal for f in FORMATS if f.ordinal},
}


def test_generate_dates_sources_parse_back_independently():
    examples = [e for e in generate_date_examples(1500, seed=11) if e.format in PARSERS]
    assert len(examples) > 150
    for ex in examples:
        assert PARSERS[ex.format](ex.source).isoformat() == ex.target, ex


def test_no_source_string_means_two_dates():
    rng = np.random.default_rng(0)
    days = rng.integers(dt.date(1950, 1, 1).toordinal(), dt.date(2049, 12, 31).toordinal(), 40)
    dates = {dt.date.fromordinal(int(d)) for d in days}
    dates |= {d.replace(month=d.day, day=d.month) for d in dates if d.day <= 12}  # swaps
    seen: dict[str, dt.date] = {}
    for date in sorted(dates):
        for fmt in FORMATS:
            source = render_date(date, fmt)
            assert seen.setdefault(source, date) == date, (source, fmt)


# --- numbers ---------------------------------------------------------------------------------


def test_number_pair_known_values():
    assert number_pair(21) == ("twenty-one", "vingt et un")
    assert number_pair(80) == ("eighty", "quatre-vingts")
    assert number_pair(0) == ("zero", "zéro")


def test_generate_numbers_seeded_and_distinct():
    pairs = generate_numbers(60, seed=5)
    assert pairs == generate_numbers(60, seed=5)
    assert pairs != generate_numbers(60, seed=6)
    assert len(set(pairs)) == 60
    values = sample_numbers(60, seed=5)
    assert pairs == [number_pair(v) for v in values]
    assert all(0 <= v <= 9999 for v in values)


def test_sample_numbers_covers_small_ranges():
    values = sample_numbers(25, seed=1, low=3, high=12)
    assert len(values) == 25 and set(values) == set(range(3, 13))
    assert sorted(sample_numbers(10, seed=1, low=3, high=12)) == list(range(3, 13))
    with pytest.raises(InputError):
        sample_numbers(3, seed=0, low=5, high=4)


# --- column ----------------------------------------------------------------------------------


def test_generate_column():
    x, y = generate_column(500, seed=2)
    assert x.shape == (500, 32) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int32
    assert set(np.unique(y).tolist()) == {0, 1}
    np.testing.assert_array_equal(x[:, 1], y.astype(np.float32))
    assert not np.array_equal(x[:, 0], y) and abs(float(x[:, 0].std()) - 1.0) < 0.15
    x2, y2 = generate_column(500, seed=2)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, y3 = generate_column(10, seed=0, n_features=4, label_column=3)
    np.testing.assert_array_equal(x3[:, 3], y3)
    with pytest.raises(InputError):
        generate_column(10, seed=0, n_features=4, label_column=4)


# --- split -----------------------------------------------------------------------------------


def test_split_indices_disjoint_covering_deterministic():
    train, val, test = split_indices(100, seed=0)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    again = split_indices(100, seed=0)
    for a, b in zip((train, val, test), again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(split_indices(100, seed=1)[0], train)
    sizes = [len(p) for p in split_indices(7, seed=0, fractions=(0.5, 0.25, 0.25))]
    assert sum(sizes) == 7 and sizes[1] == sizes[2] == 2


def test_split_list_and_bad_fractions():
    items = [f"s{i}" for i in range(20)]
    train, val, test = split_list(items, seed=3)
    idx = split_indices(20, seed=3)
    assert train == [items[i] for i in idx[0]] and test == [items[i] for i in idx[2]]
    assert sorted(train + val + test) == sorted(items)
    for bad in ((0.5, 0.5), (0.8, 0.3, 0.1), (1.2, -0.1, -0.1)):
        with pytest.raises(InputError):
            split_indices(10, seed=0, fractions=bad)


# --- tasks -----------------------------------------------------------------------------------


def test_task_registry():
    assert {name: (t.kind, t.default_size) for name, t in TASKS.items()} == {
        "dates": ("seq2seq", 20000),
        "numbers": ("seq2seq", 20000),
        "date-lang": ("text", 6000),
        "column": ("tabular", 10000),
    }
    assert load_task("dates", n=5, seed=1) == generate_dates(5, seed=1)
    assert load_task("numbers", n=4, seed=2) == generate_numbers(4, seed=2)
    x, y = load_task("column", n=7)
    assert x.shape == (7, 32) and y.shape == (7,)


def test_unknown_task_lists_choices():
    with pytest.raises(UnknownChoiceError) as info:
        load_task("weather")
    assert "'weather'" in str(info.value)
    assert "column, date-lang, dates, numbers" in str(info.value)
    assert isinstance(info.value, InputError)


def test_missing_optional_dependency_gives_pip_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "babel.dates", None)
    monkeypatch.setitem(sys.modules, "num2words", None)
    with pytest.raises(InputError, match=r"pip install 'edge-attn\[train\]'"):
        generate_dates(1, seed=0)
    with pytest.raises(InputError, match=r"pip install 'edge-attn\[train\]'"):
        generate_numbers(1, seed=0)
