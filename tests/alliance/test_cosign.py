"""Receipts and certificates that outlive the chain: Gansu's and Inner Mongolia's relayers attest
Shandong's checkpoints and hand the signatures to Shandong's notary; its receipts then carry
2-of-3 cosignatures and `lianzheng verify --offline --alliance members.json` verifies them with
every chain stopped."""
from __future__ import annotations

import base64
import copy
import json
import socket
from urllib.parse import urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account

from lianzheng.alliance.relayer import Relayer, Source
from lianzheng.chain_node.anvil import ANVIL_DEV_KEY
from lianzheng.sdk.checkpoint import Checkpoint, TlogProof, sign_checkpoint
from lianzheng.sdk.cosign import CheckpointClaim
from lianzheng.sdk.event import event_digest
from lianzheng.sdk.merkle import SHA256, MerkleTree
from lianzheng.sdk.receipt import RelayDomain
from tests.alliance.test_relay import _shandong_notary, alliance  # noqa: F401 - the fixture
from tests.helpers import cli, make_event, write_key_file
from tests.sdk.test_cosign import sign


def _closed(url: str) -> bool:
    where = urlparse(url)
    with socket.socket() as s:
        return s.connect_ex((where.hostname, where.port)) != 0


@pytest.mark.anvil
def test_receipts_and_certificates_verify_offline_with_every_chain_stopped(alliance):  # noqa: F811
    a = alliance
    tmp = a["tmp"]
    notary_account = Account.create()
    a["chains"]["shandong"].transfer(Account.from_key(ANVIL_DEV_KEY), notary_account.address, 10**20)
    server, client = _shandong_notary(a, tmp / "sd", write_key_file(tmp / "sd-chain.key", notary_account))
    registry = client.health()["chain"]["registry"]
    for i in (1, 2):  # two anchors: each size is cosigned
        client.wait_anchored(client.notarize(make_event(i)).event_id, timeout=30)

    gansu = a["relays"]["gansu"]
    source = Source("shandong", a["nodes"]["shandong"].url, registry, 370000, server.url)
    for name in ("gansu", "neimenggu"):
        reports = Relayer(a["members"][name], [source], [gansu], tmp / f"{name}.state.json").poll()
        assert reports and all(r.status in ("attested", "accepted") for r in reports), [r.line() for r in reports]
        assert not any("did not take" in r.detail for r in reports), [r.line() for r in reports]
    receipt = client.receipt("evt-1")
    assert {c.member for c in receipt.cosignatures} == {a["members"][n].address for n in ("gansu", "neimenggu")}
    assert all(c.relay.address == gansu.address and c.relay.chain_id == 6200 for c in receipt.cosignatures)
    (tmp / "r.json").write_text(receipt.to_json())
    (tmp / "e.json").write_text(json.dumps(make_event(1)))
    (tmp / "cert.pdf").write_bytes(client.certificate("S1"))
    members = tmp / "members.json"
    wrote = cli("alliance", "members", "--rpc", a["nodes"]["gansu"].url, "--relay", gansu.address, "-o", str(members))
    assert wrote.returncode == 0 and "3 members, threshold 2" in wrote.stdout, wrote.stderr
    roster = json.loads(members.read_text())

    # the route refuses what is not an attestation of Shandong's own anchored checkpoint
    size = receipt.anchor.tree_size
    claim = CheckpointClaim(3700, registry, 370000, size, base64.b64decode(client.checkpoint(size)["root"]))
    member, domain = a["members"]["gansu"], RelayDomain(chain_id=6200, address=gansu.address)
    forged = {**sign(Account.create(), claim, relay=domain), "member": member.address}
    for body, code in (({**forged, "tree_size": size, "root": claim.root.hex()}, "cosignature_invalid"),
                       ({**sign(member, claim, relay=domain), "tree_size": 99, "root": claim.root.hex()},
                        "cosignature_unanchored")):
        answer = client._http.post("/v1/cosignatures", json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text

    server.stop()
    for node in a["nodes"].values():
        node.stop()
    assert all(_closed(url) for url in [server.url] + [n.url for n in a["nodes"].values()])
    online = cli("verify", str(tmp / "r.json"), "--event", str(tmp / "e.json"), "--rpc", a["nodes"]["shandong"].url)
    assert online.returncode != 0  # the chain is really gone

    offline = ["verify", "--offline", "--alliance", str(members)]
    ok = cli(*offline, str(tmp / "r.json"))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("verified offline: region 370000") and "cosigned by 2 of 3 members" in ok.stdout
    assert a["members"]["gansu"].address in ok.stdout and a["members"]["neimenggu"].address in ok.stdout
    assert cli(*offline, str(tmp / "r.json"), "--event", str(tmp / "e.json")).returncode == 0
    cert = cli(*offline, "--certificate", str(tmp / "cert.pdf"))
    assert cert.returncode == 0, cert.stderr
    assert cert.stdout.startswith("verified certificate offline: project SDGP-2026-0042 section S1")
    assert "not checked offline: the notary's signature" in cert.stdout

    data = json.loads((tmp / "r.json").read_text())
    outsider = Account.create()
    broken = {
        "one-cosignature-removed": (lambda d: d["cosignatures"].pop(), "1 of 3 listed members"),
        "signed-by-a-non-member": (lambda d: d["cosignatures"].__setitem__(
            0, sign(outsider, claim, relay=domain)), "not a listed member"),
        "anchor-registry-relabelled": (lambda d: d["anchor"].update(registry="0x" + "ab" * 20), "0 of 3"),
        "root-of-a-rewritten-tree": (_rewrite_event, "0 of 3"),
    }
    for name, (change, reason) in broken.items():
        mutated = copy.deepcopy(data)
        change(mutated)
        (tmp / f"{name}.json").write_text(json.dumps(mutated))
        failed = cli(*offline, str(tmp / f"{name}.json"))
        assert failed.returncode == 1 and "cosignatures_below_threshold" in failed.stderr, (name, failed)
        assert reason in failed.stderr, (name, failed.stderr)
    members.write_text(json.dumps({**roster, "threshold": 3}))
    stricter = cli(*offline, str(tmp / "r.json"))
    assert stricter.returncode == 1 and "2 of 3 listed members" in stricter.stderr


def _rewrite_event(d: dict) -> None:
    """An operator rewrites the event and re-signs a tree around it (no key is checked offline)."""
    event = dict(d["event"], actor="bidder-X")
    digest = event_digest(event, SHA256)
    proof = TlogProof.parse(d["proof"])
    size = d["anchor"]["tree_size"]
    tree = MerkleTree()
    for i in range(size):
        tree.append(digest if i == d["index"] else bytes([i]) * 32)
    note = sign_checkpoint(Checkpoint(d["log"]["origin"], size, tree.root()), Ed25519PrivateKey.generate())
    d.update(event=event, event_digest=digest.hex(),
             proof=TlogProof(proof.index, tuple(tree.inclusion_proof(d["index"], size)), note).text())
