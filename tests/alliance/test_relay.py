"""Three anvil chains (Shandong, Gansu, Inner Mongolia): Shandong's evidence accepted on Gansu's
chain through AllianceRelay once k members attested, split views and forked logs caught."""
from __future__ import annotations

import json
import os

import pytest
from eth_account import Account

from lianzheng.alliance.relay_contract import AllianceRelay, ForeignCheckpoint
from lianzheng.alliance.relayer import Relayer, Source
from lianzheng.chain_node import TransactionReverted
from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.sdk.alliance import AllianceReader, verify_via_alliance
from lianzheng.sdk.client import NotaryClient
from lianzheng.sdk.errors import AnchorError
from tests.helpers import NotaryServer, cli, make_event, write_key_file

CHAINS = {"shandong": 3700, "gansu": 6200, "neimenggu": 1500}


@pytest.fixture
def alliance(tmp_path):
    nodes = {name: AnvilNode(chain_id=cid) for name, cid in CHAINS.items()}
    dev = Account.from_key(ANVIL_DEV_KEY)
    chains = {name: RpcChain(node.url) for name, node in nodes.items()}
    members = {name: Account.create() for name in CHAINS}  # each province's relayer key
    admin = Account.create()
    for chain in chains.values():
        for account in (*members.values(), admin):
            chain.transfer(dev, account.address, 10**20)
    relays = {name: AllianceRelay.deploy(chains[name], admin, [m.address for m in members.values()], 2)
              for name in CHAINS}
    servers = []
    try:
        yield {"nodes": nodes, "chains": chains, "members": members, "admin": admin, "relays": relays,
               "servers": servers, "tmp": tmp_path}
    finally:
        for s in servers:
            s.stop()
        for node in nodes.values():
            node.stop()


def _shandong_notary(a, data_dir, chain_key, checkpoint_key=None, registry=None, hash_name="sha256"):
    args = ["--region", "370000", "--rpc", a["nodes"]["shandong"].url, "--anchor-interval", "0.2",
            "--chain-key-file", str(chain_key), "--hash", hash_name]
    if checkpoint_key:
        args += ["--checkpoint-key-file", str(checkpoint_key)]
    if registry:
        args += ["--registry", registry]
    server = NotaryServer(data_dir, *args).start()
    a["servers"].append(server)
    key = cli("keys", "add", "--name", "centre", "--data-dir", str(data_dir), check=True).stdout.strip()
    return server, NotaryClient(server.url, key)


@pytest.mark.anvil
def test_evidence_from_shandong_verifies_on_gansu_after_k_attestations(alliance):
    a = alliance
    tmp = a["tmp"]
    notary_account = Account.create()
    a["chains"]["shandong"].transfer(Account.from_key(ANVIL_DEV_KEY), notary_account.address, 10**20)
    server, client = _shandong_notary(a, tmp / "sd", write_key_file(tmp / "sd-chain.key", notary_account))
    registry = client.health()["chain"]["registry"]
    event = make_event(1)
    receipt = client.wait_anchored(client.notarize(event).event_id, timeout=30)
    gansu = AllianceReader(a["nodes"]["gansu"].url, a["relays"]["gansu"].address)
    with pytest.raises(AnchorError, match="0 of 2 member attestations"):
        verify_via_alliance(gansu, receipt.model_dump(mode="json"), event=event)

    source = Source("shandong", a["nodes"]["shandong"].url, registry, 370000, server.url)
    relayer_of = {name: Relayer(a["members"][name], [source], [a["relays"]["gansu"]], tmp / f"{name}.state.json")
                  for name in ("gansu", "neimenggu")}
    first = relayer_of["gansu"].poll()
    assert first and all(r.status == "attested" for r in first), [r.line() for r in first]
    with pytest.raises(AnchorError, match="1 of 2 member attestations"):
        verify_via_alliance(gansu, receipt.model_dump(mode="json"), event=event)
    second = relayer_of["neimenggu"].poll()
    assert second and second[-1].status == "accepted", [r.line() for r in second]
    verified = verify_via_alliance(gansu, receipt.model_dump(mode="json"), event=event)
    assert set(verified.attesters) == {a["members"]["gansu"].address, a["members"]["neimenggu"].address}
    assert verified.source_chain_id == 3700 and verified.chain_id == 6200
    with pytest.raises(Exception, match="differs|event"):  # a changed event does not verify
        verify_via_alliance(gansu, receipt.model_dump(mode="json"), event={**event, "actor": "someone else"})

    # the CLI: connected only to Gansu's node
    receipt_file = tmp / "r.json"
    receipt_file.write_text(receipt.model_dump_json())
    (tmp / "e.json").write_text(json.dumps(event))
    out = cli("verify", "--receipt", str(receipt_file), "--event", str(tmp / "e.json"),
              "--rpc", a["nodes"]["gansu"].url, "--via-alliance", a["relays"]["gansu"].address)
    assert out.returncode == 0, out.stderr
    assert "verified via alliance" in out.stdout and a["members"]["neimenggu"].address in out.stdout
    other = cli("verify", "--receipt", str(receipt_file), "--event", str(tmp / "e.json"),
                "--rpc", a["nodes"]["neimenggu"].url, "--via-alliance", a["relays"]["neimenggu"].address)
    assert other.returncode == 1 and "0 of 2" in other.stderr  # nobody relayed to Inner Mongolia yet

    # a non-member cannot attest; a member attesting another root for an accepted size is an equivocation
    relay = a["relays"]["gansu"]
    size, root = relay.latest_accepted(3700, registry, 370000)
    outsider = Account.create()
    a["chains"]["gansu"].transfer(Account.from_key(ANVIL_DEV_KEY), outsider.address, 10**20)
    bogus = ForeignCheckpoint(3700, registry, 370000, size, os.urandom(32))
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(outsider, bogus, relay.sign(outsider, bogus))
    liar = a["members"]["shandong"]
    assert relay.attest(liar, bogus, relay.sign(liar, bogus)) is False
    [split] = relay.equivocations(3700, registry, 370000)
    assert (split.tree_size, split.first_root, split.second_root, split.second_member) == (
        size, root, bogus.root, liar.address)
    assert relay.latest_accepted(3700, registry, 370000) == (size, root)  # the accepted root stands


@pytest.mark.anvil
def test_a_notary_that_rewrites_its_history_is_refused(alliance):
    """Same chain account and checkpoint key, a fresh log: it anchors a larger size whose tree is
    not an extension of what the relayer accepted. The relayer refuses and names both checkpoints.
    An SM3 log: the registry cannot check SM3 consistency proofs (no precompile), so the fork is
    anchored and the relayers and mirrors are what refuse it (a SHA-256 fork is refused on chain:
    tests/security/test_registry_attacks.py)."""
    a = alliance
    tmp = a["tmp"]
    notary_account = Account.create()
    a["chains"]["shandong"].transfer(Account.from_key(ANVIL_DEV_KEY), notary_account.address, 10**20)
    chain_key = write_key_file(tmp / "sd-chain.key", notary_account)
    honest, client = _shandong_notary(a, tmp / "sd", chain_key, hash_name="sm3")
    registry = client.health()["chain"]["registry"]
    for i in range(3):
        client.wait_anchored(client.notarize(make_event(i)).event_id, timeout=30)
    relayer = Relayer(a["members"]["gansu"], [Source("shandong", a["nodes"]["shandong"].url, registry, 370000,
                                                     honest.url)], [a["relays"]["gansu"]], tmp / "g.state.json")
    accepted = relayer.poll()
    assert accepted and accepted[-1].status == "attested"
    mirror = ["mirror", "--rpc", a["nodes"]["shandong"].url, "--data-dir", str(tmp / "mirror")]
    synced = cli(*mirror, "--source", honest.url)
    assert synced.returncode == 0 and synced.stdout.startswith(f"verified {accepted[-1].tree_size} entries"), synced
    honest.stop()

    forked, fork_client = _shandong_notary(a, tmp / "sd-fork", chain_key, tmp / "sd" / "keys" / "checkpoint.pem",
                                           registry, hash_name="sm3")
    events = [make_event(100 + i, actor="rewritten") for i in range(6)]
    receipts = fork_client.notarize_batch(events)
    fork_client.wait_anchored(receipts[-1].event_id, timeout=30)
    relayer.sources = [Source("shandong", a["nodes"]["shandong"].url, registry, 370000, forked.url)]
    refused = relayer.poll()
    assert [r.status for r in refused] == ["refused"], [r.line() for r in refused]
    old_size = accepted[-1].tree_size
    assert f"({old_size}, " in refused[0].detail and "not consistent" in refused[0].detail
    assert relayer.poll()[0].status == "refused"  # and it stays refused
    forked_mirror = cli(*mirror, "--source", forked.url)
    assert forked_mirror.returncode == 1 and "the log forked" in forked_mirror.stderr
    assert f"with ({old_size}, " in forked_mirror.stderr  # both checkpoints named
    [followed] = relayer.state.values()
    assert followed.size == old_size  # nothing of the rewritten log was attested
    forked_size = fork_client.checkpoint()["size"]
    assert not a["relays"]["gansu"].contract.logs("Attested", treeSize=forked_size)
