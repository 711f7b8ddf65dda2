from __future__ import annotations

import pytest
from eth_account import Account

from chain_node.anvil import ANVIL_DEV_KEY


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request, tmp_path):
    """The same contract tests on the embedded EVM and on a real anvil node."""
    if request.param == "embedded":
        from chain_node.embedded import EmbeddedChain

        c = EmbeddedChain(tmp_path / "chain")
        c.dev = Account.from_key(c.dev_keys[0])
    else:
        from chain_node.rpc import RpcChain

        c = RpcChain(request.getfixturevalue("anvil_node").url)
        c.dev = Account.from_key(ANVIL_DEV_KEY)
    yield c
    c.close()

