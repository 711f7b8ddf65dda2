"""Offline verification by alliance cosignatures (sdk/cosign.py): a real anchored receipt (embedded
chain), members' attestations signed by eth_account (an independent EIP-712 implementation), and
every way a cosignature can fail to count named after what was broken."""
from __future__ import annotations

import copy
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account

from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof, sign_checkpoint
from lianzheng.sdk.cosign import (
    CHECKPOINT_TYPES,
    RELAY_NAME,
    RELAY_VERSION,
    CheckpointClaim,
    attestation_digest,
    parse_members,
    recover_signer,
    verify_offline,
)
from lianzheng.sdk.errors import CosignatureThresholdError, MalformedError, PendingError
from lianzheng.sdk.event import event_digest
from lianzheng.sdk.merkle import SHA256, MerkleTree
from lianzheng.sdk.receipt import Receipt, RelayDomain, parse_receipt
from tests.helpers import make_event

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
RELAY = RelayDomain(chain_id=6200, address="0x" + "62" * 20)


def sign(member, claim: CheckpointClaim, epoch: int = 1, relay: RelayDomain = RELAY) -> dict:
    """A member's attestation as the relayer makes it (eth_account's EIP-712), as receipts carry it."""
    domain = {"name": RELAY_NAME, "version": RELAY_VERSION, "chainId": relay.chain_id,
              "verifyingContract": relay.address}
    message = {"sourceChainId": claim.source_chain_id, "registry": claim.registry, "region": claim.region,
               "treeSize": claim.tree_size, "root": claim.root, "memberEpoch": epoch}
    signature = bytes(member.sign_typed_data(domain, CHECKPOINT_TYPES, message).signature)
    return {"relay": relay.model_dump(), "member": member.address, "epoch": epoch, "signature": "0x" + signature.hex()}


def claim_of(receipt: Receipt) -> CheckpointClaim:
    checkpoint = Checkpoint.parse_body(SignedNote.parse(TlogProof.parse(receipt.proof).checkpoint_note).body)
    return CheckpointClaim(receipt.anchor.chain_id, receipt.anchor.registry, int(receipt.log.region),
                           checkpoint.size, checkpoint.root)


@pytest.fixture
def cosigned(notary):
    notary.log.submit([make_event(i) for i in range(5)], "ts")
    notary.worker.anchor_once()
    receipt = notary.log.receipt("evt-3")
    members = [Account.create() for _ in range(3)]
    roster = parse_members({"format": "lianzheng-alliance-members/1",
                            "relay": {"name": RELAY_NAME, "version": "1", **RELAY.model_dump()}, "threshold": 2,
                            "members": [{"address": m.address, "epoch": 1} for m in members]})
    claim = claim_of(receipt)
    signed = receipt.model_copy(update={"cosignatures": []})
    data = signed.model_dump(mode="json")
    data["cosignatures"] = [sign(members[0], claim), sign(members[1], claim)]
    return parse_receipt(data), roster, members, claim


def _mutate(receipt: Receipt, fn) -> Receipt:
    data = copy.deepcopy(receipt.model_dump(mode="json"))
    fn(data)
    return parse_receipt(data)


def test_our_eip712_digest_is_eth_accounts(cosigned):
    _, _, members, claim = cosigned
    for epoch in (1, 7, 2**64 - 1):
        c = sign(members[2], claim, epoch)
        assert recover_signer(attestation_digest(RELAY, claim, epoch), bytes.fromhex(c["signature"][2:])) == \
            members[2].address


def test_two_of_three_members_verify_with_no_chain(cosigned):
    receipt, roster, members, _ = cosigned
    result = verify_offline(receipt, roster, event=make_event(3))
    assert result.signers == (members[0].address, members[1].address)
    assert (result.tree_size, result.threshold, result.listed) == (5, 2, 3)
    line = result.summary()
    assert line.startswith("verified offline: region 370000, index 3 of 5") and members[1].address in line
    assert "not checked offline: the anchor's block and time" in line
    public = receipt.public()
    assert verify_offline(public.model_dump_json(), roster, document_sha256=f"{3:064x}").signers == result.signers


def _high_s(c: dict) -> None:
    raw = bytes.fromhex(c["signature"][2:])
    s = N - int.from_bytes(raw[32:64], "big")  # the same signature, malleated: recovers the same key
    c["signature"] = "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([raw[64] ^ 1])).hex()


TAMPERINGS = {
    "one-cosignature-removed": (lambda d, m, c: d["cosignatures"].pop(), "1 of 3"),
    "signed-by-a-non-member": (lambda d, m, c: d["cosignatures"].__setitem__(1, sign(Account.create(), c)),
                               "not a listed member"),
    "non-member-signature-under-a-member-name": (
        lambda d, m, c: d["cosignatures"][1].update(signature=sign(Account.create(), c)["signature"]),
        "signature is not its attestation"),
    "same-member-twice": (lambda d, m, c: d["cosignatures"].__setitem__(1, sign(m[0], c)), "counted once already"),
    "signed-in-another-epoch": (lambda d, m, c: d["cosignatures"].__setitem__(1, sign(m[1], c, epoch=2)),
                                "signed in epoch 2, listed epoch is 1"),
    "epoch-relabelled": (lambda d, m, c: d["cosignatures"][1].update(epoch=2), "listed epoch is 1"),
    "signed-for-another-relay": (
        lambda d, m, c: d["cosignatures"].__setitem__(1, sign(m[1], c, relay=RelayDomain(chain_id=1500,
                                                                                         address=RELAY.address))),
        "not the listed one"),
    "relay-relabelled": (lambda d, m, c: d["cosignatures"][1]["relay"].update(address="0x" + "15" * 20),
                         "not the listed one"),
    "high-s-signature": (lambda d, m, c: _high_s(d["cosignatures"][1]), "signature is not its attestation"),
    "anchor-registry-relabelled": (lambda d, m, c: d["anchor"].update(registry="0x" + "ab" * 20), "0 of 3"),
    "anchor-chain-relabelled": (lambda d, m, c: d["anchor"].update(chain_id=1), "0 of 3"),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_every_broken_cosignature_is_refused_with_its_reason(cosigned, name):
    receipt, roster, members, claim = cosigned
    change, reason = TAMPERINGS[name]
    broken = _mutate(receipt, lambda d: change(d, members, claim))
    with pytest.raises(CosignatureThresholdError, match=reason) as caught:
        verify_offline(broken, roster)
    assert caught.value.threshold == 2 and caught.value.counted < 2


def test_a_rewritten_event_in_a_re_signed_tree_is_not_what_members_cosigned(cosigned):
    """An operator rewrites an event and builds a consistent tree and checkpoint around it (offline,
    nobody checks its key): the members' signatures are over the anchored root, not this one."""
    receipt, roster, _, _ = cosigned
    forged_event = dict(receipt.event, actor="bidder-X")
    digest = event_digest(forged_event, SHA256)
    tree = MerkleTree()
    for i in range(5):
        tree.append(digest if i == receipt.index else bytes([i]) * 32)
    note = sign_checkpoint(Checkpoint(receipt.log.origin, 5, tree.root()), Ed25519PrivateKey.generate())
    proof = TlogProof(receipt.index, tuple(tree.inclusion_proof(receipt.index, 5)), note).text()
    forged = _mutate(receipt, lambda d: d.update(event=forged_event, event_digest=digest.hex(), proof=proof))
    with pytest.raises(CosignatureThresholdError, match=f"0 of 3 .*root {tree.root().hex()}"):
        verify_offline(forged, roster)


def test_a_higher_threshold_than_the_cosigners_fails_and_says_how_many(cosigned):
    receipt, roster, _, _ = cosigned
    with pytest.raises(CosignatureThresholdError, match="2 of 3 listed members cosigned .* threshold 3"):
        verify_offline(receipt, roster.model_copy(update={"threshold": 3}))


def test_pending_receipts_and_bad_member_files_are_refused(cosigned, notary):
    _, roster, _, _ = cosigned
    notary.log.submit([make_event(9)], "ts")
    with pytest.raises(PendingError):
        verify_offline(notary.log.receipt("evt-9"), roster)
    good = roster.model_dump(mode="json")
    for name, change in {
        "threshold-above-members": lambda d: d.update(threshold=4),
        "member-listed-twice": lambda d: d["members"].append(dict(d["members"][0])),
        "epoch-zero": lambda d: d["members"][0].update(epoch=0),
        "unknown-format": lambda d: d.update(format="lianzheng-alliance-members/2"),
        "another-domain-name": lambda d: d["relay"].update(name="OtherRelay"),
        "extra-field": lambda d: d.update(note="x"),
    }.items():
        bad = copy.deepcopy(good)
        change(bad)
        with pytest.raises(MalformedError):
            parse_members(bad)
        assert name
    assert parse_members(roster.to_json()) == roster  # byte-exact round trip of the format
    with pytest.raises(MalformedError, match="not JSON"):
        parse_members(b"{" + os.urandom(8))


def test_receipts_without_cosignatures_keep_their_json(notary):
    notary.log.submit([make_event(1)], "ts")
    notary.worker.anchor_once()
    receipt = notary.log.receipt("evt-1")
    assert receipt.cosignatures == [] and "cosignatures" not in receipt.model_dump()
    assert "cosignatures" not in receipt.to_json() and parse_receipt(receipt.to_json()) == receipt
