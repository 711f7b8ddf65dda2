"""省市数据链: the province notary and two city notaries on ONE chain, each under its own identity."""
from __future__ import annotations

import httpx
import pytest
from eth_account import Account

from lianzheng.chain_node import TransactionReverted
from lianzheng.chain_node.anvil import funded_key_file
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import NotaryServer, cli, make_event


@pytest.mark.anvil
def test_province_and_cities_share_one_chain_and_each_anchors_only_its_own_log(anvil_node, tmp_path):
    rpc = anvil_node.url
    keys = {region: funded_key_file(rpc, tmp_path / "keys" / f"{region}.key")
            for region in ("370000", "370100", "370200")}
    servers: list[NotaryServer] = []
    try:
        province = NotaryServer(tmp_path / "370000", "--region", "370000", "--rpc", rpc, "--anchor-interval", "0.3",
                                "--chain-key-file", str(keys["370000"])).start()
        servers.append(province)
        registry = httpx.get(province.url + "/healthz", timeout=10).json()["chain"]["registry"]

        def city(region: str) -> NotaryServer:
            return NotaryServer(tmp_path / region, "--region", region, "--rpc", rpc, "--registry", registry,
                                "--anchor-interval", "0.3", "--chain-key-file", str(keys[region]))

        unbound = city("370100")
        with pytest.raises(AssertionError, match="bindNotary"):  # not bound yet: refuses to start, says why
            unbound.start()
        jinan_account = Account.from_key(bytes.fromhex(keys["370100"].read_text().strip().removeprefix("0x")))
        refused = cli("registry", "bind", "--rpc", rpc, "--registry", registry, "--key-file", str(keys["370100"]),
                      "--account", jinan_account.address, "--region", "370100")
        assert refused.returncode == 1 and "AccessControlUnauthorizedAccount" in refused.stderr  # only the registrar
        for region in ("370100", "370200"):
            account = Account.from_key(bytes.fromhex(keys[region].read_text().strip().removeprefix("0x")))
            cli("registry", "bind", "--rpc", rpc, "--registry", registry, "--key-file", str(keys["370000"]),
                "--account", account.address, "--region", region, check=True)
        taken = cli("registry", "bind", "--rpc", rpc, "--registry", registry, "--key-file", str(keys["370000"]),
                    "--account", Account.create().address, "--region", "370100")
        assert taken.returncode == 1 and "EvidenceRegistryRegionTaken" in taken.stderr
        servers += [city("370100").start(), city("370200").start()]

        anchored = {}
        for server, region in zip(servers, ("370000", "370100", "370200")):
            key = cli("keys", "add", "--name", f"centre-{region}", "--data-dir", str(tmp_path / region),
                      check=True).stdout.strip()
            with NotaryClient(server.url, key) as client:
                event = make_event(int(region), region=region, id=f"evt-{region}")
                anchored[region] = (client.wait_anchored(client.notarize(event).event_id, timeout=30), event)
                with pytest.raises(NotaryClientError) as other_region:  # a city writes only its own region
                    client.notarize(make_event(1, region="370000" if region != "370000" else "370100"))
                assert other_region.value.status == 422
        verifier = Verifier(RegistryReader(rpc, registry))
        for region, (receipt, event) in anchored.items():
            assert receipt.anchor.registry == registry and str(receipt.event["region"]) == region
            verifier.verify(receipt, event=event)

        chain = RpcChain(rpc)
        contract = chain.contract("EvidenceRegistry", registry)
        with pytest.raises(TransactionReverted, match="EvidenceRegistryNotRegionNotary"):
            chain.transact(jinan_account, contract.tx("anchor", 370000, 10**6, b"\x01" * 32, []))
        with pytest.raises(TransactionReverted, match="EvidenceRegistryNotRegionNotary"):
            chain.transact(jinan_account, contract.tx("anchor", 370200, 10**6, b"\x01" * 32, []))
        # the province binds its own rule contracts; a city's are bound by the registrar, on request
        assert len(contract.read("rulesOf", 370000)) == 1 and contract.read("rulesOf", 370100) == []
        jinan = httpx.get(servers[1].url + "/healthz", timeout=10).json()["chain"]
        refused = cli("registry", "bind-rules", "--rpc", rpc, "--registry", registry, "--key-file", str(keys["370100"]),
                      "--region", "370100", "--tender", jinan["tender_rules"], "--draw", jinan["expert_draw"])
        assert refused.returncode == 1 and "AccessControlUnauthorizedAccount" in refused.stderr
        bound = cli("registry", "bind-rules", "--rpc", rpc, "--registry", registry, "--key-file", str(keys["370000"]),
                    "--region", "370100", "--tender", jinan["tender_rules"], "--draw", jinan["expert_draw"], check=True)
        assert bound.stdout.startswith("rule contracts of 370100: tender ")
        assert contract.read("rulesOf", 370100) == [(jinan["tender_rules"], jinan["expert_draw"])]
        shown = cli("registry", "show", "--rpc", rpc, "--registry", registry, check=True).stdout.splitlines()
        assert [line.split()[0] for line in shown] == ["370000", "370100", "370200"]
        assert all("anchored 0" not in line and "no key yet" not in line for line in shown)
    finally:
        for server in servers:
            server.stop()



@pytest.mark.anvil
def test_registrar_moves_a_region_to_a_new_account_in_two_steps(anvil_node, tmp_path):
    """`registry rebind` (registrar proposes) then `registry accept` (the new account takes it):
    the old account loses the region and NOTARY_ROLE; neither step alone moves anything."""
    rpc = anvil_node.url
    keys = {name: funded_key_file(rpc, tmp_path / f"{name}.key") for name in ("province", "old", "new", "other")}
    accounts = {name: Account.from_key(bytes.fromhex(path.read_text().strip().removeprefix("0x")))
                for name, path in keys.items()}
    chain = RpcChain(rpc)
    registry = chain.deploy(accounts["province"], "EvidenceRegistry", accounts["province"].address)
    contract = chain.contract("EvidenceRegistry", registry)
    common = ("--rpc", rpc, "--registry", registry)
    cli("registry", "bind", *common, "--key-file", str(keys["province"]), "--account", accounts["old"].address,
        "--region", "370100", check=True)
    chain.transact(accounts["old"], contract.tx("registerCheckpointKey", b"\x11" * 32, 0, "lianzheng.notary/370100"))
    chain.transact(accounts["old"], contract.tx("anchor", 370100, 1, b"\x01" * 32, []))

    early = cli("registry", "accept", *common, "--key-file", str(keys["new"]), "--region", "370100")
    assert early.returncode == 1 and "EvidenceRegistryNotProposedNotary" in early.stderr  # nothing proposed
    by_city = cli("registry", "rebind", *common, "--key-file", str(keys["old"]), "--account",
                  accounts["new"].address, "--region", "370100")
    assert by_city.returncode == 1 and "AccessControlUnauthorizedAccount" in by_city.stderr  # registrar only
    proposed = cli("registry", "rebind", *common, "--key-file", str(keys["province"]), "--account",
                   accounts["new"].address, "--region", "370100", check=True)
    assert "proposed" in proposed.stdout
    assert contract.read("logOf", 370100)[0] == accounts["old"].address  # one step moves nothing
    wrong = cli("registry", "accept", *common, "--key-file", str(keys["other"]), "--region", "370100")
    assert wrong.returncode == 1 and "EvidenceRegistryNotProposedNotary" in wrong.stderr
    cli("registry", "accept", *common, "--key-file", str(keys["new"]), "--region", "370100", check=True)

    role = contract.read("NOTARY_ROLE")
    assert contract.read("logOf", 370100)[0] == accounts["new"].address
    assert not contract.read("hasRole", role, accounts["old"].address)
    with pytest.raises(TransactionReverted, match="AccessControlUnauthorizedAccount"):
        chain.transact(accounts["old"], contract.tx("anchor", 370100, 2, b"\x02" * 32, []))
    shown = cli("registry", "show", *common, check=True).stdout
    assert shown.split()[:2] == ["370100", accounts["new"].address]
    missing = cli("registry", "accept", *common, "--key-file", str(tmp_path / "none.key"), "--region", "370100")
    assert missing.returncode == 2
