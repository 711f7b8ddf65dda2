"""The mechanical part of the house style, as a test: ruff (pycodestyle, pyflakes, import order;
the rules and the line length are ``[tool.ruff]`` in pyproject.toml) finds nothing in the project."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-1000:]
