"""Compile contracts/src with the npm ``solc`` (pinned by package-lock.json) through py-solc-x.

``python -m lianzheng.contracts.build`` writes contracts/build/<Contract>.json and, for the contracts a
verifier reads, their ABI alone into sdk/abis/ (the SDK installs without the contracts'
bytecode), and sdk/rules.json (what a witness checks rule events with: ``witness_table``); ``--check``
compares instead of writing and exits 1 naming every file that differs from its source.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import solcx

from lianzheng.sdk.errors import LianzhengError

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SRC = HERE / "src"
ADAPTER = HERE / "solc-npm.js"
SETTINGS = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                                    "evm.deployedBytecode.immutableReferences"]}},
}


class CompileError(LianzhengError):
    """The contracts cannot be compiled (no compiler, or the sources have errors)."""

    code = "compile_failed"


def compile_all() -> dict[str, dict]:
    """Artifacts of every contract defined in contracts/src, keyed by contract name."""
    if not (PROJECT / "node_modules" / "solc").is_dir():
        raise CompileError("npm package solc is missing: run `npm ci` in the project root")
    sources = {p.name: {"content": p.read_text()} for p in sorted(SRC.glob("*.sol"))}
    try:
        output = solcx.compile_standard(
            {"language": "Solidity", "sources": sources, "settings": SETTINGS},
            solc_binary=ADAPTER,
            allow_empty=True,
        )
    except solcx.exceptions.SolcError as exc:  # it carries the whole compiler output: keep the message
        raise CompileError(str(exc).split("\n> command:")[0]) from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    artifacts = {}
    for unit in sources:
        for name, out in output["contracts"].get(unit, {}).items():
            bytecode = out["evm"]["bytecode"]["object"]
            if not bytecode or not out["abi"]:  # interfaces; libraries inlined as internal functions
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceUnit": f"contracts/src/{unit}",
                "compiler": {"package": "npm:solc", "version": _solc_version(), "settings": SETTINGS},
                "abi": out["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
                # [start, length] of each immutable's bytes in the runtime code (set at deployment):
                # a witness compares deployed code with these ranges zeroed.
                "immutables": sorted([r["start"], r["length"]] for refs in
                                     out["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                                     for r in refs),
            }
    return artifacts


def _solc_version() -> str:
    lock = json.loads((PROJECT / "package-lock.json").read_text())
    return lock["packages"]["node_modules/solc"]["version"]


def _render(art: dict) -> str:
    return json.dumps(art, indent=1, sort_keys=True) + "\n"


def outputs(artifacts: dict[str, dict]) -> dict[Path, str]:
    """Every file the build writes, with its text: artifacts, and the SDK's copy of some ABIs."""
    from lianzheng.contracts.witness_table import rules_table
    from lianzheng.sdk.contract import SDK_ABIS

    files = {HERE / "build" / f"{name}.json": _render(art) for name, art in artifacts.items()}
    for name in SDK_ABIS:
        files[PROJECT / "sdk" / "abis" / f"{name}.json"] = json.dumps(artifacts[name]["abi"], indent=1,
                                                                    sort_keys=True) + "\n"
    files[PROJECT / "sdk" / "rules.json"] = json.dumps(rules_table(artifacts.__getitem__), indent=1,
                                                       sort_keys=True) + "\n"
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differing = []
    for path, text in outputs(compile_all()).items():
        if check:
            if not path.is_file() or path.read_text() != text:
                differing.append(str(path.relative_to(PROJECT)))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(PROJECT)}")
    if differing:
        print("built files differ from sources: " + ", ".join(differing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
