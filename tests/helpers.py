"""What the tests share: the notary harness (``lianzheng.notary.local``) under its test names,
and key files."""
from __future__ import annotations

import subprocess
from pathlib import Path

from lianzheng.chain_node.accounts import write_account_key
from lianzheng.notary.local import LIANZHENG, NotaryServer, PostgresCluster, run_cli, sample_event

__all__ = ["LIANZHENG", "NotaryServer", "PostgresCluster", "ROOT", "cli", "make_event", "write_key_file"]

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_cli(*args, check=check, timeout=timeout, cwd=ROOT)


make_event = sample_event


write_key_file = write_account_key
