from __future__ import annotations

import pytest
from eth_account import Account

from chain_node.anvil import ANVIL_DEV_KEY
from rules.tender.contract import TenderRules


class ChainClock:
    """Sets the timestamp of the next block. On anvil through evm_setNextBlockTimestamp (an
    anvil-only test helper); on the embedded chain eth-tester's time travel mines an empty block
    one second before it, so the next block carries ``timestamp``."""

    def __init__(self, chain, anvil=None) -> None:
        self.chain, self.anvil = chain, anvil

    def latest(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def next_block_at(self, timestamp: int) -> None:
        if self.anvil is not None:
            self.anvil.rpc("evm_setNextBlockTimestamp", [timestamp])
        else:
            self.chain.time_travel(timestamp)


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request, tmp_path):
    if request.param == "embedded":
        from chain_node.embedded import EmbeddedChain

        c = EmbeddedChain(tmp_path / "chain")
        c.dev = Account.from_key(c.dev_keys[0])
        c.clock = ChainClock(c)
    else:
        from chain_node.anvil import AnvilNode
        from chain_node.rpc import RpcChain

        node = AnvilNode()  # its own node: these tests move chain time
        request.addfinalizer(node.stop)
        c = RpcChain(node.url)
        c.dev = Account.from_key(ANVIL_DEV_KEY)
        c.clock = ChainClock(c, node)
    yield c
    c.close()



@pytest.fixture
def tender(chain, funded):
    """A deployed TenderRules with a Shandong centre, a relaying trading system and 5 bidders."""
    admin = funded()
    rules = TenderRules.deploy(chain, admin)
    rules.admin, rules.centre, rules.relayer = admin, funded(), funded()
    rules.grant_centre(admin, 370000, rules.centre.address)
    rules.bidder_keys = [Account.create() for _ in range(5)]
    rules.bidder_ids = [bytes([i + 1]) * 32 for i in range(5)]
    for bid_id, key in zip(rules.bidder_ids, rules.bidder_keys):
        rules.register_bidder(rules.centre, 370000, bid_id, key.address)
    return rules
