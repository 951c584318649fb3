"""``edge-attn translate`` / ``classify`` through click's CliRunner, and the heatmaps."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from edge_attn.runtime.errors import InputError
from edge_attn.runtime.heatmap import SHADES, plot_attention, render_heatmap

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _runner() -> CliRunner:
    """A runner keeping stderr apart (click < 8.2 needs mix_stderr=False; 8.2 removed it)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def _run(cli_main, args, stdin=None):
    return _runner().invoke(cli_main, args, input=stdin, catch_exceptions=False)


def test_translate_json(cli_main, tiny_artifacts):
    model = str(tiny_artifacts["seq2seq"])
    res = _run(
        cli_main,
        ["translate", "-m", model, "the 3rd of March, 2021", "mercredi 14 juillet 1965", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [o["ids"] for o in out] == [
        tiny_artifacts["expected"]["seq2seq_greedy"][t]
        for t in ("the 3rd of March, 2021", "mercredi 14 juillet 1965")
    ]
    assert {"text", "tokens", "score", "attention", "source_tokens"} <= set(out[0])


def test_translate_stdin_beam_and_modes(cli_main, tiny_artifacts):
    model = str(tiny_artifacts["seq2seq"])
    res = _run(
        cli_main,
        ["translate", "-m", model, "--beam", "3", "--attention", "monotonic", "--replace-unk"],
        stdin="a dog\n\nthe cat sat on the mat\n",
    )
    assert res.exit_code == 0, res.output
    assert len(res.stdout.splitlines()) == 2


def test_translate_min_len(cli_main, tiny_artifacts):
    model = str(tiny_artifacts["seq2seq"])
    res = _run(cli_main, ["translate", "-m", model, "--min-len", "4", "--max-len", "4", "--json",
                          "the 3rd of March, 2021"])
    assert res.exit_code == 0, res.output
    (out,) = json.loads(res.stdout)
    assert len(out["ids"]) == 4 and out["finished"] is False
    res = _runner().invoke(cli_main, ["translate", "-m", model, "--min-len", "9", "--max-len",
                                      "4", "the 3rd of March, 2021"])
    assert res.exit_code == 1 and "min_len must be" in res.stderr


def test_translate_invalid_utf8_stdin(cli_main, tiny_artifacts):
    res = _runner().invoke(
        cli_main,
        ["translate", "-m", str(tiny_artifacts["seq2seq"])],
        input=b"a dog\n\xff\xfe bad\n",
    )
    assert res.exit_code == 1
    assert "error: stdin line 2 is not valid UTF-8" in res.stderr


def test_translate_show_attention_and_plot(cli_main, tiny_artifacts, tmp_path):
    png = tmp_path / "att.png"
    res = _run(
        cli_main,
        [
            "translate",
            "-m",
            str(tiny_artifacts["seq2seq"]),
            "the 3rd of March, 2021",
            "--show-attention",
            "--plot",
            str(png),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "│" in res.stdout and any(ch in res.stdout for ch in SHADES[1:])
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_translate_truncation_is_one_warning_line(cli_main, tiny_artifacts):
    res = _run(
        cli_main,
        [
            "translate",
            "-m",
            str(tiny_artifacts["seq2seq"]),
            "the cat sat on the mat in the park with my dog",
        ],
    )
    assert res.exit_code == 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "truncated" in lines[0]


def test_translate_errors(cli_main, tiny_artifacts, tmp_path, monkeypatch):
    res = _runner().invoke(cli_main, ["translate", "-m", str(tmp_path / "x.eatt"), "hi"])
    assert res.exit_code == 1 and res.stderr.startswith("error: ")
    res = _runner().invoke(cli_main, ["translate", "-m", str(tiny_artifacts["text"]), "hi"])
    assert res.exit_code == 1 and "edge-attn classify" in res.stderr
    from edge_attn.cli import _runtime_io

    monkeypatch.setattr(_runtime_io, "DEMO_MODEL", "no-such-demo.eatt")
    res = _runner().invoke(cli_main, ["translate", "hi"])
    assert res.exit_code == 1 and "-m/--model" in res.stderr


def test_classify_text_and_tabular(cli_main, tiny_artifacts):
    res = _run(
        cli_main,
        ["classify", "-m", str(tiny_artifacts["text"]), "the 3rd of March, 2021", "--json"],
    )
    assert res.exit_code == 0, res.output
    (pred,) = json.loads(res.stdout)
    assert pred["label"] in pred["probs"]
    row = ",".join(str(x) for x in tiny_artifacts["expected"]["tabular"]["row"])
    res = _run(
        cli_main,
        ["classify", "-m", str(tiny_artifacts["tabular"]), "--show-attention"],
        stdin=row + "\n",
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.split("\t")[0] in ("0", "1")  # the column task's labels
    res = _runner().invoke(cli_main, ["classify", "-m", str(tiny_artifacts["tabular"]), "1,2"])
    assert res.exit_code == 1 and "expects 32" in res.stderr
    res = _runner().invoke(cli_main, ["classify", "-m", str(tiny_artifacts["seq2seq"]), "x"])
    assert res.exit_code == 1 and "not a classifier" in res.stderr


def test_render_heatmap_alignment():
    m = np.array([[0.0, 0.95, 0.05], [0.5, 0.25, 0.25]])
    text = render_heatmap(m, ["le", "château", "東京"], ["the", "castle"])
    lines = text.splitlines()
    assert lines[0].split("│")[1].split() == ["le", "château", "東京"]
    assert lines[2].startswith("the    │ ") and "███████" in lines[2]
    assert lines[3].split("│")[1].startswith(" ▒▒ ")
    with pytest.raises(InputError, match="does not match"):
        render_heatmap(m, ["a"], ["b"])


def test_plot_attention_png_and_missing_matplotlib(tmp_path, monkeypatch):
    m = np.eye(2)
    out = plot_attention(m, ["a", "b"], ["x", "y"], tmp_path / "p.png")
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(InputError, match="does not exist"):
        plot_attention(m, ["a", "b"], ["x", "y"], tmp_path / "no" / "p.png")
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(InputError, match="pip install matplotlib"):
        plot_attention(m, ["a", "b"], ["x", "y"], tmp_path / "q.png")
