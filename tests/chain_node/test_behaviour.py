"""One behaviour suite for every chain backend (``chain_node.interface``): the embedded EVM and a
real anvil node pass the same tests. A new backend (Besu, FISCO) is done when these pass on it."""
from __future__ import annotations

import threading

import pytest
from eth_account import Account

from lianzheng.chain_node import ChainError, ChainUnavailable, InvalidTransaction, TransactionReverted
from lianzheng.chain_node.interface import ChainNode, ContractHandle, DevChain
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.sdk.contract import CallReverted


@pytest.fixture
def registry(chain, funded):
    admin = funded()
    contract = chain.contract("EvidenceRegistry", chain.deploy(admin, "EvidenceRegistry", admin.address))
    contract.admin = admin
    return contract


def test_the_backends_are_chain_nodes_and_dev_chains(chain, registry):
    assert isinstance(chain, ChainNode) and isinstance(chain, DevChain)
    assert isinstance(registry, ContractHandle)
    assert chain.chain_id > 0
    assert chain.balance_of(chain.dev.address) > 10**20
    assert chain.block_time() > 1_700_000_000


def test_deploy_read_and_transact_with_typed_answers(chain, registry, funded):
    assert chain.code_at(registry.address)
    assert registry.read("hasRole", registry.read("REGISTRAR_ROLE"), registry.admin.address) is True
    notary = funded()
    before = chain.block_time()
    outcome = chain.transact(registry.admin, registry.tx("bindNotary", notary.address, 370000))
    assert outcome.status == 1 and outcome.gas_used > 21_000 and outcome.block_time >= before
    [bound] = registry.logs_in(outcome.receipt, "NotaryBound")
    assert (bound.name, bound.args, bound.tx_hash) == ("NotaryBound", {"region": 370000, "notary": notary.address},
                                                       outcome.tx_hash)
    assert registry.read("regionOf", notary.address) == 370000
    assert registry.read("logOf", 370000)[0] == notary.address  # several outputs: a tuple, addresses checksummed


def test_logs_are_filtered_on_indexed_arguments(chain, registry, funded):
    for region in (370100, 370200, 370300):
        chain.transact(registry.admin, registry.tx("bindNotary", funded().address, region))
    assert [log.args["region"] for log in registry.logs("NotaryBound")] == [370100, 370200, 370300]
    assert [log.args["region"] for log in registry.logs("NotaryBound", region=370200)] == [370200]
    assert registry.logs("NotaryBound", region=110000) == []


def test_reverts_name_the_contracts_custom_error(chain, registry, funded):
    stranger = funded()
    with pytest.raises(TransactionReverted) as refused:  # refused at estimation: nothing mined
        chain.transact(stranger, registry.tx("bindNotary", stranger.address, 370000))
    assert refused.value.reason.startswith("AccessControlUnauthorizedAccount(") and refused.value.tx_hash is None
    with pytest.raises(TransactionReverted) as mined:  # with a gas limit: mined, reverted, on record
        chain.transact(stranger, registry.tx("bindNotary", stranger.address, 370000), gas=200_000)
    assert mined.value.reason.startswith("AccessControlUnauthorizedAccount(")
    assert chain.outcome(mined.value.tx_hash).status == 0
    with pytest.raises(CallReverted) as view:
        registry.read("checkpointAt", 370000, 5)
    assert view.value.reason == "EvidenceRegistryUnknownCheckpoint(370000, 5)"


def test_arguments_that_do_not_fit_are_invalid_transactions(registry):
    with pytest.raises(InvalidTransaction):
        registry.tx("bindNotary", "not an address", 370000)
    with pytest.raises(InvalidTransaction):
        registry.tx("bindNotary", registry.admin.address, -1)


def test_signed_first_then_sent_lands_once(chain, registry, funded):
    notary = funded()
    with chain.sender(registry.admin.address):
        signed = chain.sign(registry.admin, registry.tx("bindNotary", notary.address, 370000), gas=200_000)
    assert chain.outcome(signed.hash) is None  # recorded, not sent
    assert chain.send_raw(signed) == signed.hash
    assert chain.wait(signed.hash).status == 1
    try:  # sent again once mined: nodes say "known" or "nonce too low"; either way it lands once
        chain.send_raw(signed)
    except ChainError as exc:
        assert "nonce" in str(exc).lower()
    assert chain.nonce_of(registry.admin.address) == signed.nonce + 1
    assert len(registry.logs("NotaryBound")) == 1


def test_concurrent_senders_get_distinct_nonces_in_order(chain, registry, funded):
    accounts = [funded() for _ in range(12)]
    errors: list[Exception] = []

    def bind(i: int) -> None:
        try:
            chain.transact(registry.admin, registry.tx("bindNotary", accounts[i].address, 620100 + i * 100))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=bind, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(registry.logs("NotaryBound")) == 12


def test_gas_money_and_the_clock(chain):
    account = Account.create()
    assert chain.balance_of(account.address) == 0
    chain.fund(account.address, 10**18)
    assert chain.balance_of(account.address) == 10**18
    chain.transfer(account, Account.create().address, 1)
    assert chain.nonce_of(account.address) == 1
    later = chain.block_time() + 3600
    chain.set_next_block_time(later)
    chain.fund(Account.create().address, 1)
    assert chain.block_time() == later


@pytest.mark.anvil
def test_a_node_that_does_not_answer_is_unavailable(anvil_node):
    from lianzheng.chain_node.anvil import free_port

    with pytest.raises(ChainUnavailable):
        RpcChain(f"http://127.0.0.1:{free_port()}")
    chain = RpcChain(anvil_node.url)
    empty = Account.create().address
    with pytest.raises(ChainError, match="fund it"):
        chain.ensure_gas_money(empty)
