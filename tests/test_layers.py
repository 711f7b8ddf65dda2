"""The layers of the house, as a test: each package imports only the packages below it.

    lianzheng (the CLI root)
    notary                      the service: API, store, log, anchoring
    rules · alliance            rule contracts' façades · relayers, mirrors (never each other)
    chain_node                  writing to chains
    contracts                   artifacts and the build
    sdk                         client, verifier, proofs, formats: imports nothing of ours

Nothing imports a package above it (sdk, chain_node and rules never import notary), so the
SDK installs and runs alone, and a chain backend never depends on the service using it.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("sdk", "contracts", "chain_node", "rules", "alliance", "notary", "lianzheng")
MAY_IMPORT = {
    "sdk": set(),
    "contracts": {"sdk"},
    "chain_node": {"sdk", "contracts"},
    "rules": {"sdk", "contracts", "chain_node"},
    "alliance": {"sdk", "contracts", "chain_node"},
    "notary": {"sdk", "contracts", "chain_node", "rules"},
    "lianzheng": {"sdk", "contracts", "chain_node", "rules", "alliance", "notary"},
}


def _ours(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "lianzheng" and len(parts) > 1 and parts[1] in PACKAGES:
        return parts[1]
    return parts[0] if parts[0] in PACKAGES else None


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
        found.update(p for p in map(_ours, names) if p)
    return found


def test_no_package_imports_one_above_it():
    wrong = []
    for package, allowed in MAY_IMPORT.items():
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else ():
            for imported in imports_of(path) - allowed - {package}:
                wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert wrong == []


def test_every_import_of_ours_goes_through_the_namespace():
    bare = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] in (".venv", ".venv-slither", "node_modules"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            bare += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in PACKAGES[:-1]]
    assert bare == []  # "import sdk.x" works from a checkout and breaks once installed


def test_the_rule_catches_an_arrow_upward(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from notary.store import SqlStore\nimport lianzheng.alliance.relayer\n")
    assert imports_of(probe) == {"notary", "alliance"}
