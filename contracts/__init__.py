"""Committed build artifacts of the Solidity contracts (ABI + bytecode).

Reading them needs no Node: ``./scripts/run`` deploys from these files. ``python -m
contracts.build`` recompiles them from ``contracts/src`` with the pinned npm ``solc``.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent / "build"


@cache
def artifact(name: str) -> dict:
    """The artifact of contract ``name``: ``abi``, ``bytecode``, ``deployedBytecode``, compiler."""
    path = BUILD_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no build artifact for {name} at {path}; run python -m lianzheng.contracts.build")
    return json.loads(path.read_text())
