"""The README's "Bring your own Keras model" examples run exactly as printed.

Each ``python`` block whose first line is ``# NAME.py`` is written to NAME.py in a fresh
folder, and the ``bash`` block right after it is run there (``python`` and ``edge-attn`` from
this environment): the user's Keras code trains, ``edge-attn export`` / ``export_seq2seq``
write an artifact that passes the default validation, and ``edge-attn translate`` prints a
translation with its attention.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)


def _examples() -> dict[str, tuple[str, str]]:
    """``NAME.py -> (python source, the bash block that follows it)``."""
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    out = {}
    for i, (lang, body) in enumerate(blocks):
        first = body.splitlines()[0]
        if lang == "python" and re.fullmatch(r"# \w+\.py", first):
            follow = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            assert follow[0] == "bash", f"{first}: no bash block after it"
            out[first[2:]] = (body, follow[1])
    return out


EXAMPLES = _examples()


def test_the_readme_has_both_examples():
    assert set(EXAMPLES) == {"byo.py", "byo_callable.py"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_readme_example_runs(name, tmp_path):
    source, commands = EXAMPLES[name]
    (tmp_path / name).write_text(source, encoding="utf-8")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
    artifacts = list(tmp_path.glob("*.eatt"))
    assert len(artifacts) == 1
    # translate printed a date, then the attention grid over the source characters
    lines = run.stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", ln))
    assert re.search(r"│ f r \. . 1 5 . f e b \. . 2 0 1 9$", lines[start + 1])
    assert "shades:" in lines[start + 3 + len(lines[start].strip())]
