from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="session")
def rfc6962_vectors() -> Path:
    """transparency-dev's RFC 6962 proof vectors, copied with their licence into tests/vectors."""
    return VECTORS / "rfc6962"


@pytest.fixture(scope="session")
def anvil_node():
    from lianzheng.chain_node.anvil import AnvilNode

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
    from lianzheng.notary.services.setup import open_notary
    from lianzheng.notary.settings import Settings

    n = open_notary(Settings(data_dir=tmp_path / "data"))
    yield n
    n.close()



@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request, tmp_path):
    """A fresh development chain, once on the embedded EVM and once on a real anvil node (its own:
    tests move its clock and spend its dev account): one behaviour, two backends."""
    if request.param == "embedded":
        from lianzheng.chain_node.embedded import EmbeddedChain

        c = EmbeddedChain(tmp_path / "chain")
    else:
        from lianzheng.chain_node.anvil import AnvilNode

        node = AnvilNode()  # 0.15 s to start
        request.addfinalizer(node.stop)
        c = node.chain()
    yield c
    c.close()


@pytest.fixture
def funded(chain):
    """A factory of fresh accounts with gas money on ``chain``."""
    from eth_account import Account

    def make():
        account = Account.create()
        chain.fund(account.address, 10**19)
        return account

    return make
