"""The SDK stands alone: every module of ``lianzheng.sdk`` imports with the rest of the project and
the server's libraries blocked (house style: verification never imports the writing side), so
the ``lianzheng-sdk`` distribution needs none of them."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

BLOCKER = """
import importlib.abc, pkgutil, sys
BLOCKED_OURS = ("notary", "chain_node", "rules", "alliance", "contracts")
BLOCKED = ("fastapi", "sqlmodel", "sqlalchemy", "starlette", "uvicorn", "web3", "eth_tester", "eth", "solcx",
           "reportlab", "psycopg")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        parts = name.split(".")
        if parts[0] in BLOCKED or (parts[0] == "lianzheng" and len(parts) > 1 and parts[1] in BLOCKED_OURS):
            raise ImportError("sdk imported " + name)
sys.meta_path.insert(0, Block())
import lianzheng.sdk
names = sorted(m.name for m in pkgutil.walk_packages(lianzheng.sdk.__path__, "lianzheng.sdk."))
for name in names:
    importlib.import_module(name)
print(len(names), "clean")
"""


def test_every_sdk_module_imports_without_the_server_side():
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    count, word = result.stdout.split()
    assert word == "clean" and int(count) >= 20  # every module, not a few named ones


def test_the_blocker_does_catch_a_server_import():
    for probe_import in ("import lianzheng.notary.store", "import web3", "import lianzheng.chain_node"):
        probe = BLOCKER.replace('print(len(names), "clean")', probe_import)
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode != 0 and "sdk imported" in result.stderr, probe_import


def test_the_sdk_wheel_carries_its_abis_and_requires_no_server_library(tmp_path):
    import shutil
    import zipfile

    source = tmp_path / "sdk"  # built from a copy: setuptools leaves build/ beside the sources
    shutil.copytree(ROOT / "sdk", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("lianzheng_sdk-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert {"lianzheng/sdk/verifier.py", "lianzheng/sdk/abis/EvidenceRegistry.json",
            "lianzheng/sdk/cli/verify.py"} <= names
    assert not any(n.startswith(("lianzheng/notary", "lianzheng/chain_node", "sdk/")) for n in names)
    required = {line.split()[1].split("[")[0].split(">")[0].split("=")[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:")}
    assert not required & {"web3", "eth-tester", "py-evm", "fastapi", "sqlmodel", "psycopg", "reportlab", "uvicorn"}
    assert required >= {"httpx", "eth-abi", "cryptography", "rfc8785", "pydantic"}
