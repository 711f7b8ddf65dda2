from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def rfc6962_vectors() -> Path:
    path = SHARED_VECTORS / "rfc6962"
    if not path.is_dir():
        pytest.skip(f"standard vectors not found at {path} (they live in ../shared beside the project)")
    return path


@pytest.fixture(scope="session")
def anvil_node():
    from chain_node.anvil import AnvilNode

    node = AnvilNode()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def postgres():
    from tests.helpers import PostgresCluster

    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def notary(tmp_path):
    """An assembled notary on the embedded chain and SQLite, worker not started."""
    from notary.services.setup import open_notary
    from notary.settings import Settings

    n = open_notary(Settings(data_dir=tmp_path / "data"))
    yield n
    n.close()



@pytest.fixture
def funded(chain):
    """A factory of fresh accounts with gas money on ``chain`` (each test folder defines ``chain``
    with a ``dev`` account: the embedded EVM and anvil behind one behaviour suite)."""
    from eth_account import Account

    def make():
        account = Account.create()
        chain.transfer(chain.dev, account.address, 10**19)  # 10 ether: anvil's dev account holds 10,000
        return account

    return make
