"""The sealed box of a section: bids kept off chain until the deadline, sealed at it.

Before the deadline nothing about a section's bids is on chain or in the public log (招标投标法
Art. 22: neither who nor how many). The notary keeps each section's entries in an RFC 9162
Merkle log of their own (SHA-256, leaf data = the ABI encoding of ``BoxEntry``, as the
contract hashes it) and gives each bidder at once a receipt signed with its chain account:
EIP-712 ``BoxReceipt`` (section, leaf hash). The receipt names no position and no box size, so
a bidder does not learn how many bid before it. At the deadline the box's size and root are
sealed on chain; from then on every entry is public and every opening proves its entry's
inclusion against the sealed root.

An omission is provable: after the seal the notary publishes the box's entries; they must
hash to the root sealed on chain, and the bidder's entry must be among them
(``check_receipt``). A notary that left the entry out holds its own signature on an entry the
sealed box does not contain.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.rules.errors import RuleError
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.merkle import SHA256, MerkleTree

RECEIPT_TYPES = {"BoxReceipt": [{"name": "sectionId", "type": "bytes32"}, {"name": "leafHash", "type": "bytes32"}]}


class BoxError(RuleError):
    code = "box_refused"


@dataclass(frozen=True)
class BoxReceipt:
    """The notary's signed word that the entry of ``leaf_hash`` is in the section's box."""

    section_id: bytes
    leaf_hash: bytes
    signer: str
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {"sectionId": self.section_id, "leafHash": self.leaf_hash}

    def to_json(self) -> dict[str, Any]:
        return {"section_id": self.section_id.hex(), "leaf_hash": self.leaf_hash.hex(), "signer": self.signer,
                "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "BoxReceipt":
        b = bytes.fromhex
        return cls(b(d["section_id"]), b(d["leaf_hash"]), to_checksum_address(d["signer"]), b(d["signature"]))


def leaf_hash(entry: BoxEntry) -> bytes:
    return SHA256.hash_leaf(entry.leaf_data())


class SealedBox:
    """One section's box: entries in order, the Merkle tree over them, receipts signed by ``signer``."""

    def __init__(self, section_id: bytes, domain: dict[str, Any], entries: list[BoxEntry] | None = None) -> None:
        self.section_id, self.domain = section_id, domain
        self.entries: list[BoxEntry] = []
        self.tree = MerkleTree(SHA256)
        for entry in entries or ():
            self.append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def append(self, entry: BoxEntry) -> int:
        if entry.section_id != self.section_id:
            raise BoxError("the entry is for another section")
        self.entries.append(entry)
        return self.tree.append_leaf_hash(leaf_hash(entry))

    def add(self, entry: BoxEntry, signer: LocalAccount) -> BoxReceipt:
        return self.receipt(self.append(entry), signer)

    def root(self, size: int | None = None) -> bytes:
        return self.tree.root(size)

    def receipt(self, index: int, signer: LocalAccount) -> BoxReceipt:
        unsigned = BoxReceipt(self.section_id, self.tree.leaf_hash(index), signer.address, b"")
        signed = signer.sign_typed_data(self.domain, RECEIPT_TYPES, unsigned.message())
        return BoxReceipt(self.section_id, unsigned.leaf_hash, signer.address, bytes(signed.signature))

    def inclusion(self, index: int) -> list[bytes]:
        return self.tree.inclusion_proof(index, len(self))




def check_receipt(receipt: BoxReceipt, notary: str, domain: dict[str, Any], sealed_size: int, sealed_root: bytes,
                  entries: list[BoxEntry]) -> int:
    """The bidder's check that it was not left out: the receipt is the notary's, the published
    ``entries`` are the box sealed on chain (``sealed_size``, ``sealed_root``), and the receipt's
    entry is among them. Returns its index; raises ``VerificationError`` otherwise."""
    signable = encode_typed_data(domain, RECEIPT_TYPES, receipt.message())
    if Account.recover_message(signable, signature=receipt.signature) != to_checksum_address(notary):
        raise VerificationError("the box receipt is not signed by the section's notary")
    box = SealedBox(receipt.section_id, domain)
    try:
        for entry in entries:
            box.append(entry)
    except BoxError as exc:
        raise VerificationError(f"the published box holds an entry of another section: {exc}") from exc
    if len(box) != sealed_size or box.root() != sealed_root:
        raise VerificationError(f"the published box ({len(box)} entries) is not the box sealed on chain "
                                f"({sealed_size} entries, root {sealed_root.hex()[:16]}…)")
    leaves = [box.tree.leaf_hash(i) for i in range(len(box))]
    if receipt.leaf_hash not in leaves:
        raise VerificationError(f"omitted: the notary signed the receipt of an entry that is not among the "
                                f"{sealed_size} entries of the sealed box", sealed_size=sealed_size)
    return leaves.index(receipt.leaf_hash)
