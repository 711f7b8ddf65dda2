"""The SDK must not import the writing side: notary, FastAPI, SQLModel (house style)."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

BLOCKER = """
import importlib.abc, sys
BLOCKED = ("notary", "fastapi", "sqlmodel", "sqlalchemy", "starlette", "uvicorn")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("sdk imported " + name)
sys.meta_path.insert(0, Block())
import sdk.merkle, sdk.checkpoint, sdk.event, sdk.receipt, sdk.registry, sdk.verifier, sdk.client, sdk.cli
import sdk.cli.verify, sdk.cli.notarize
print("clean")
"""


def test_sdk_imports_nothing_from_the_server_side():
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_the_blocker_does_catch_a_server_import():
    probe = BLOCKER.replace("print(\"clean\")", "import notary.store")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "sdk imported notary" in result.stderr
