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


# -- hardening: numbers, model paths as text, limits, unexpected errors, native noise ------

def _row(first: str, n: int = 32) -> str:
    return ",".join([first] + ["0.5"] * (n - 1))


@pytest.mark.parametrize("value", ["1e39", "-1e39", "3.5e38", "nan", "inf", "-inf", "NaN"])
def test_tabular_values_must_be_finite_float32(cli_main, tiny_artifacts, value):
    res = _runner().invoke(cli_main, ["classify", "-m", str(tiny_artifacts["tabular"]), "--json",
                                      _row(value)])
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("error: row 1: x0=") and res.stderr.count("\n") == 1
    from edge_attn.runtime.classifier import TabularClassifier

    with pytest.raises(InputError, match="finite float32|not finite"):
        TabularClassifier(tiny_artifacts["tabular"]).predict([_row(value)])


def test_rows_starting_with_a_minus_sign(cli_main, tiny_artifacts):
    model = str(tiny_artifacts["tabular"])
    row = _row("-1.5")
    plain = _run(cli_main, ["classify", "-m", model, "--json", row, _row("-.25")])
    assert plain.exit_code == 0, plain.output
    after_dashes = _run(cli_main, ["classify", "-m", model, "--json", "--", row, _row("-.25")])
    from_stdin = _run(cli_main, ["classify", "-m", model, "--json"], stdin=row + "\n")
    first = json.loads(plain.stdout)
    assert first == json.loads(after_dashes.stdout)
    assert first[:1] == json.loads(from_stdin.stdout)
    assert first[0]["source"][0] == -1.5 and first[1]["source"][0] == -0.25
    # an option after a number still parses as an option
    res = _run(cli_main, ["classify", row, "-m", model])
    assert res.exit_code == 0 and res.stdout.count("\n") == 1


def test_text_after_double_dash_and_negative_numbers(cli_main, tiny_artifacts):
    model = str(tiny_artifacts["seq2seq"])
    res = _run(cli_main, ["translate", "-m", model, "--json", "--", "-5 March 2021", "--beam"])
    assert res.exit_code == 0, res.output
    assert [o["source"] for o in json.loads(res.stdout)] == ["-5 March 2021", "--beam"]
    res = _run(cli_main, ["translate", "-m", model, "-5", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["source"] == "-5"


def test_model_path_given_as_text_is_an_error(cli_main, tiny_artifacts, tmp_path):
    model = str(tiny_artifacts["seq2seq"])
    for args in (["translate", model, "March 3"], ["translate", "dates-int8.eatt", "March 3"],
                 ["translate", "-m", model, "March 3", model],
                 ["classify", "-m", str(tiny_artifacts["text"]), str(tiny_artifacts["text"])]):
        res = _runner().invoke(cli_main, args)
        assert res.exit_code == 1 and res.stdout == "", args
        assert "looks like a model file" in res.stderr and "-m/--model" in res.stderr
    renamed = tmp_path / "model.bin"  # an artifact without the suffix is caught by content
    renamed.write_bytes(tiny_artifacts["seq2seq"].read_bytes())
    res = _runner().invoke(cli_main, ["translate", str(renamed), "March 3"])
    assert res.exit_code == 1 and "looks like a model file" in res.stderr


def test_decode_limits(cli_main, tiny_artifacts):
    from edge_attn.runtime import constants as C
    from edge_attn.runtime.translator import Translator

    model = str(tiny_artifacts["seq2seq"])
    for args in (["--max-len", str(C.MAX_DECODE_LEN + 1)], ["--max-len", "100000"],
                 ["--beam", str(C.MAX_BEAM + 1)]):
        res = _runner().invoke(cli_main, ["translate", "-m", model, *args, "x"])
        assert res.exit_code == 2 and "not in the range" in res.stderr, args
    tr = Translator(model)
    with pytest.raises(InputError, match=f"max_len must be an integer in .1, {C.MAX_DECODE_LEN}"):
        tr.translate("March 3", max_len=C.MAX_DECODE_LEN + 1)
    with pytest.raises(InputError, match=f"beam must be an integer in .1, {C.MAX_BEAM}"):
        tr.translate("March 3", beam=C.MAX_BEAM + 1)
    assert tr.translate("March 3", max_len=C.MAX_DECODE_LEN, beam=2)[0].text


def test_unexpected_exception_is_one_line_unless_verbose(cli_main, tiny_artifacts, monkeypatch):
    from edge_attn.runtime.translator import Translator

    def boom(*args, **kwargs):
        raise ValueError("kaboom\nsecond line")

    monkeypatch.setattr(Translator, "translate", boom)
    model = str(tiny_artifacts["seq2seq"])
    res = _runner().invoke(cli_main, ["translate", "-m", model, "x"])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: unexpected ValueError: kaboom second line")
    res = _runner().invoke(cli_main, ["--verbose", "translate", "-m", model, "x"])
    assert isinstance(res.exception, ValueError)


NATIVE_NOISE = ("XNNPACK delegate", "absl::InitializeLog", "oneDNN", "fully_quantize", "INFO:")


def test_translate_stderr_has_no_native_noise(tiny_artifacts):
    """LiteRT writes ``INFO: Created TensorFlow Lite XNNPACK delegate`` to descriptor 2 from
    C++; only a real process shows whether it reaches the user (hence a subprocess)."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    from pathlib import Path

    cmd = [str(Path(sys.executable).parent / "edge-attn")]  # the installed console script
    args = ["translate", "-m", str(tiny_artifacts["seq2seq"]), "the 3rd of March, 2021"]
    quiet = subprocess.run(cmd + args, capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout.strip(), quiet.stderr
    assert quiet.stderr == ""
    loud = subprocess.run(cmd + ["--verbose"] + args, capture_output=True, text=True, env=env,
                          timeout=120)
    assert loud.returncode == 0 and loud.stdout == quiet.stdout
    from edge_attn.runtime.backend import LITERT, get_backend

    if get_backend().name == LITERT:  # tflite-runtime 2.14 prints no delegate line here
        assert "XNNPACK" in loud.stderr  # the noise is real, and --verbose shows it
    bad = subprocess.run(cmd + ["translate", "-m", str(tiny_artifacts["text"]), "x"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
    assert not any(n in bad.stderr for n in NATIVE_NOISE)
