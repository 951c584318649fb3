"""``edge-attn profile`` and :mod:`edge_attn.runtime.profile` (no timing thresholds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edge_attn.runtime.errors import InputError
from edge_attn.runtime.profile import compare, profile_model, summarize

FAST = ["--runs", "8", "--warmup", "1"]


def _runner() -> CliRunner:
    """A runner keeping stderr apart (click < 8.2 needs mix_stderr=False; 8.2 removed it)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def _profile(cli_main, *args):
    return _runner().invoke(cli_main, ["profile", *args], catch_exceptions=False)


def _ordered(stats):
    return stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"]


def test_profile_json_seq2seq(cli_main, tiny_artifacts):
    res = _profile(cli_main, str(tiny_artifacts["seq2seq"]), *FAST, "--json", "--src-len", "3",
                   "--tgt-len", "4", "--threads", "1")
    assert res.exit_code == 0, res.output
    assert "profiling" not in res.stderr  # no progress bar with --json
    out = json.loads(res.stdout)
    assert {"machine", "options", "models", "comparison"} <= set(out)
    assert {"cpu", "machine", "cores", "python"} <= set(out["machine"])
    (m,) = out["models"]
    assert {"file_bytes", "model_bytes", "load_ms", "rss_mb", "backend", "threads",
            "latency_us", "sentence", "quantization", "machine"} <= set(m)
    assert set(m["latency_us"]) == {"encode", "decode_step"}
    for stats in (*m["latency_us"].values(), m["sentence"]["latency_us"]):
        assert _ordered(stats)
    assert m["sentence"]["steps"] == 4 and m["sentence"]["tokens"] == 4
    assert m["sentence"]["tokens_per_s"] > 0
    assert m["src_len"] == 3 and m["threads"] == 1
    assert m["backend"]["name"] in ("ai-edge-litert", "tflite-runtime")
    assert m["rss_mb"]["process_peak"] > 0
    (row,) = out["comparison"]
    assert row["latency_ratio"] == 1.0 and row["size_ratio"] == 1.0
    assert all(s["ratio"] == 1.0 for s in row["signatures"].values())


def test_profile_classifier_json(cli_main, tiny_artifacts):
    s2s, text = str(tiny_artifacts["seq2seq"]), str(tiny_artifacts["text"])
    res = _profile(cli_main, s2s, text, *FAST, "--batch", "2", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    cls = out["models"][1]
    assert set(cls["latency_us"]) == {"classify"} and cls["batch"] == 2
    assert cls["sentence"] is None and _ordered(cls["latency_us"]["classify"])
    rows = out["comparison"]
    assert rows[1]["latency_ratio"] is None  # another kind than the first: no latency ratio
    assert rows[1]["size_ratio"] == pytest.approx(cls["file_bytes"] / out["models"][0][
        "file_bytes"])


def test_profile_two_models_table(cli_main, tiny_artifacts):
    s2s, text = str(tiny_artifacts["seq2seq"]), str(tiny_artifacts["text"])
    res = _profile(cli_main, s2s, text, *FAST)
    assert res.exit_code == 0, res.output
    assert "profiling" in res.stderr  # progress bar on stderr
    lines = res.stdout.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("model "))
    body = lines[header + 2:]
    body = body[: body.index("")] if "" in body else body  # notes follow a blank line
    assert len(body) == 2
    assert body[0].startswith(Path(s2s).name) and body[1].startswith(Path(text).name)
    assert "size×" in lines[header] and "latency×" in lines[header]
    assert "1.00" in body[0]


def test_profile_bad_path(cli_main, tmp_path):
    res = _runner().invoke(cli_main, ["profile", str(tmp_path / "missing.eatt")])
    assert res.exit_code == 1
    assert res.stderr.startswith("error: ") and "missing.eatt" in res.stderr


def test_profile_bad_lengths(cli_main, tiny_artifacts):
    res = _runner().invoke(cli_main, ["profile", str(tiny_artifacts["seq2seq"]), "--src-len",
                                      "999", *FAST])
    assert res.exit_code == 1 and "--src-len" in res.stderr


def test_library_compare_ratios(tiny_artifacts):
    path = tiny_artifacts["seq2seq"]
    a = profile_model(path, runs=4, warmup=0, tgt_len=2)
    b = profile_model(path, runs=4, warmup=0, tgt_len=2)
    rows = compare([a, b])
    assert rows[0]["latency_ratio"] == 1.0 and rows[0]["size_ratio"] == 1.0
    assert rows[1]["latency_ratio"] == pytest.approx(
        b["sentence"]["latency_us"]["p50"] / a["sentence"]["latency_us"]["p50"])
    assert compare([]) == []
    with pytest.raises(InputError, match="runs"):
        profile_model(path, runs=0)


def test_summarize_percentiles():
    stats = summarize([5000, 1000, 3000, 2000, 4000])
    assert stats["p50"] == 3.0 and stats["min"] == 1.0 and stats["n"] == 5
    assert stats["p50"] <= stats["p90"] <= stats["p99"] <= 5.0


def test_profile_decodes_through_the_decoder_adapter(tiny_artifacts, monkeypatch):
    """The sentence figure comes from the public Decoder (no private Translator call)."""
    import inspect

    from edge_attn.runtime import profile
    from edge_attn.runtime.decoder import Decoder

    calls = []
    real = Decoder.forced

    def counting(self, tokens, steps, *rest):
        calls.append((tokens.shape, steps))
        return real(self, tokens, steps, *rest)

    monkeypatch.setattr(Decoder, "forced", counting)
    result = profile_model(tiny_artifacts["seq2seq"], runs=4, warmup=1, tgt_len=3)
    assert calls and all(steps == 3 for _, steps in calls)
    assert result["sentence"]["steps"] == 3
    assert "._decode" not in inspect.getsource(profile)


def test_bundled_model_forced_steps_through_the_adapter():
    """Exactly ``steps`` ids per row, one sentence (lean loop) and a batch (general path)."""
    from edge_attn.runtime import load_model
    from edge_attn.runtime.profile import forced_greedy

    tr = load_model(Path(__file__).resolve().parent.parent / "runtime/models/dates-int8.eatt")
    tokens, _ = tr.decoder.source_batch([[5, 6, 7], [8, 9]])
    one = forced_greedy(tr, tokens[:1], 5)
    both = forced_greedy(tr, tokens, 5)
    assert one.shape == (1, 5) and both.shape == (2, 5)
    assert tr.decoder.eos not in both
    np.testing.assert_array_equal(one[0], both[0])


def test_profile_reports_beam_and_shortlist_next_to_greedy(pipeline):
    from edge_attn.runtime.profile import render_table

    res = profile_model(pipeline["dates-float32-shortlist"], runs=8, warmup=1, tgt_len=4)
    variants = res["variants"]
    assert set(variants) == {"beam4", "greedy+shortlist", "beam4+shortlist"}
    greedy = res["sentence"]["latency_us"]["p50"]
    for v in variants.values():
        assert v["latency_us"]["p50"] > 0
        assert v["vs_greedy"] == pytest.approx(v["latency_us"]["p50"] / greedy)
    assert variants["beam4"]["vs_greedy"] > 1.0  # four rows per step instead of one
    table = render_table([res], compare([res]))
    assert "beam4+shortlist" in table and "× greedy" in table
    plain = profile_model(pipeline["dates-float32"], runs=4, warmup=1, tgt_len=3)
    assert set(plain["variants"]) == {"beam4"}
