"""`lianzheng tender ...` against a real anvil node, ending with a witness's `tender audit`."""
from __future__ import annotations

import time

import pytest
from eth_account import Account
from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.rules.tender.contract import TenderRules, bidder_id

from tests.helpers import cli, write_key_file


def _key_file(path, account):
    return str(write_key_file(path, account))


@pytest.mark.anvil
def test_tender_from_the_command_line_and_audit(tmp_path):
    with AnvilNode() as node:
        chain = RpcChain(node.url)
        dev = Account.from_key(ANVIL_DEV_KEY)
        admin, centre, relayer = (Account.create() for _ in range(3))
        for a in (admin, centre, relayer):
            chain.transfer(dev, a.address, 10**20)
        rules = TenderRules.deploy(chain, admin)
        rules.grant_centre(admin, 370000, centre.address)
        bidders = [Account.create() for _ in range(4)]
        common = ["--rpc", node.url, "--contract", rules.address]
        centre_key, relay_key = _key_file(tmp_path / "centre.key", centre), _key_file(tmp_path / "relay.key", relayer)
        ids = []
        for i, key in enumerate(bidders):
            out = cli("tender", "register-bidder", *common, "--key-file", centre_key, "--region", "370000",
                      "--credit-code", f"91370100MA3C12{i:02d}X5", "--bidder-address", key.address, check=True)
            ids.append(bytes.fromhex(out.stdout.strip()[2:]))
        assert ids[0] == bidder_id("91370100MA3C1200X5")
        refused = cli("tender", "register-bidder", *common, "--key-file", relay_key, "--region", "370000",
                      "--credit-code", "91370100MA3C1299X5", "--bidder-address", relayer.address)
        assert refused.returncode == 1 and "AccessControlUnauthorizedAccount" in refused.stderr
        deadline = int(time.time()) + 120
        opened = cli("tender", "open", *common, "--key-file", centre_key, "--region", "370000",
                     "--project", "SDGP-2026-0042", "--section-code", "S1", "--deadline", str(deadline), check=True)
        section = opened.stdout.strip()
        assert bytes.fromhex(section[2:]) == rules.section_id(370000, "SDGP-2026-0042", "S1")
        files = [tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"]
        files[0].write_bytes(b"identical bid")
        files[1].write_bytes(b"identical bid")
        files[2].write_bytes(b"honest bid")
        for i, f in enumerate(files):
            out = cli("tender", "commit", *common, "--key-file", relay_key, "--section", section,
                      "--bidder-key-file", _key_file(tmp_path / f"bidder{i}.key", bidders[i]),
                      "--bidder", "0x" + ids[i].hex(), "--file", str(f), check=True)
            assert out.stdout.startswith("committed in block")
        fourth = cli("tender", "commit", *common, "--key-file", relay_key, "--section", section,
                     "--bidder-key-file", _key_file(tmp_path / "bidder3.key", bidders[3]),
                     "--bidder", "0x" + ids[3].hex(), "--file", str(files[2]),
                     "--sealed-out", str(tmp_path / "fourth.json"), check=True)
        assert fourth.returncode == 0
        cli("tender", "withdraw", *common, "--key-file", relay_key, "--section", section,
            "--bidder-key-file", str(tmp_path / "bidder3.key"), "--bidder", "0x" + ids[3].hex(), "--nonce", "2",
            check=True)
        early = cli("tender", "start-opening", *common, "--key-file", centre_key, "--section", section)
        assert early.returncode == 1 and "TenderRulesOpeningBeforeDeadline" in early.stderr
        node.rpc("evm_setNextBlockTimestamp", [deadline])
        late = cli("tender", "commit", *common, "--key-file", relay_key, "--section", section,
                   "--bidder-key-file", str(tmp_path / "bidder2.key"), "--bidder", "0x" + ids[2].hex(),
                   "--file", str(files[2]), "--nonce", "2", "--sealed-out", str(tmp_path / "late.json"))
        assert late.returncode == 1 and "BidDeadlinePassed" in late.stderr
        cli("tender", "start-opening", *common, "--key-file", centre_key, "--section", section, check=True)
        for f in files:
            out = cli("tender", "reveal", *common, "--key-file", centre_key,
                      "--sealed", str(f) + ".sealed.json", check=True)
            assert out.stdout.strip() == "valid"
        closed = cli("tender", "close", *common, "--key-file", centre_key, "--section", section, check=True)
        assert closed.stdout.strip() == "evaluation: 3 valid bids"
        status = cli("tender", "status", *common, "--section", section, check=True).stdout.splitlines()
        assert status[0].startswith("evaluation:") and status[1].startswith("FLAG DuplicateBidFile")

        report = cli("tender", "audit", "--rpc", node.url, "--contract", rules.address, "--section", section,
                     check=True).stdout
        events = [line.split()[3] for line in report.splitlines() if " block " in line]
        assert events[0] == "SectionOpened" and events[-1] == "SectionProceeded"
        assert events.count("BidCommitted") == 4 and events.count("BidOpened") == 3
        assert events.count("BidWithdrawn") == 1
        assert "DuplicateBidFile" in events
        assert "FLAG DuplicateBidFile" in report and ids[0].hex()[:12] in report and ids[1].hex()[:12] in report
        assert report.count(": valid") == 3
        bad = cli("tender", "audit", "--rpc", node.url, "--contract", rules.address, "--section", "0x1234")
        assert bad.returncode == 2 and "32 bytes" in bad.stderr
