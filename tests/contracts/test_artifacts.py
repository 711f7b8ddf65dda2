"""Committed bytecode must be what the pinned compiler makes of the committed sources:
that is what lets a witness check the rules deployed on chain."""
from __future__ import annotations

import json

from lianzheng.contracts import BUILD_DIR
from lianzheng.contracts.build import SETTINGS, compile_all, outputs


def test_artifacts_are_reproducible_from_sources():
    fresh = compile_all()
    for path, text in outputs(fresh).items():  # artifacts and the SDK's copy of the verifier's ABIs
        assert path.is_file() and path.read_text() == text, f"{path.name} differs: python -m lianzheng.contracts.build"
    committed = {p.stem for p in BUILD_DIR.glob("*.json")}
    assert set(fresh) == committed, "artifacts missing or stale: run python -m lianzheng.contracts.build"
    for name, art in fresh.items():
        on_disk = json.loads((BUILD_DIR / f"{name}.json").read_text())
        assert on_disk["bytecode"] == art["bytecode"], f"{name}: bytecode differs from its source"
        assert on_disk["deployedBytecode"] == art["deployedBytecode"], f"{name}: runtime bytecode differs"
        assert on_disk["abi"] == art["abi"], f"{name}: ABI differs"
        assert on_disk == art


def test_compiler_is_pinned_to_cancun():
    assert SETTINGS["evmVersion"] == "cancun"
    art = json.loads((BUILD_DIR / "EvidenceRegistry.json").read_text())
    assert art["compiler"]["settings"]["evmVersion"] == "cancun"
    assert art["compiler"]["package"] == "npm:solc"


def test_every_contract_fits_the_size_limit_production_chains_enforce():
    """EIP-170: Besu refuses to deploy runtime code above 24,576 bytes; said here by name, before any
    chain does, so a contract that grows near it is seen at build time, not at a production deploy."""
    for path in sorted(BUILD_DIR.glob("*.json")):
        code = bytes.fromhex(json.loads(path.read_text())["deployedBytecode"].removeprefix("0x"))
        assert 0 < len(code) <= 24_576, f"{path.name}: {len(code):,} bytes of runtime code"
