"""Fixtures of the rules tests; ``chain`` (embedded EVM and anvil) comes from tests/conftest.py."""
from __future__ import annotations

import pytest
from eth_account import Account
from lianzheng.rules.tender.contract import TenderRules


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
