"""A notary names its rule contracts in the registry, or says what its registrar must do."""
from __future__ import annotations

import logging

from eth_account import Account

from lianzheng.chain_node import open_chain
from lianzheng.notary.services import setup
from lianzheng.notary.settings import Settings


def test_binding_is_done_once_and_an_old_registry_only_warns(tmp_path, caplog):
    chain = open_chain(None, tmp_path / "chain")
    try:
        registrar, city = Account.create(), Account.create()
        for account in (registrar, city):
            chain.fund(account.address, 10**20)
        registry = chain.contract("EvidenceRegistry", chain.deploy(registrar, "EvidenceRegistry", registrar.address))
        tender = chain.deploy(registrar, "TenderRules", registrar.address)
        draw = chain.deploy(registrar, "ExpertDraw", registrar.address, tender)
        settings = Settings(data_dir=tmp_path)
        for _ in range(2):  # a restart finds the binding and adds none
            setup._bind_rules(settings, registry, chain, registrar, tender, draw)
        assert registry.read("rulesOf", 370000) == [(tender, draw)]
        with caplog.at_level(logging.WARNING, "lianzheng.setup"):
            setup._bind_rules(Settings(data_dir=tmp_path, region="370100"), registry, chain, city, tender, draw)
            assert registry.read("rulesOf", 370100) == []  # a city cannot bind: it says what to run
            assert "lianzheng registry bind-rules --region 370100" in caplog.text
            old = chain.contract("EvidenceRegistry", chain.deploy(registrar, "NaiveEvidence"))
            setup._bind_rules(settings, old, chain, registrar, tender, draw)  # no rulesOf: warned, not fatal
            assert "predates rule bindings" in caplog.text
    finally:
        chain.close()
