"""The sealed box of a section: bids kept off chain until the deadline, sealed at it.

Before the deadline nothing about a section's bids is on chain or in the public log (招标投标法
Art. 22: neither who nor how many). The notary keeps each section's entries in an RFC 9162
Merkle log of their own (SHA-256, leaf data = the ABI encoding of ``BoxEntry``, as the
contract hashes it) and gives each bidder at once a receipt signed with its chain account
(EIP-712 ``BoxReceipt``: section, index, leaf hash, box size and root right after the entry).
At the deadline the box's size and root are sealed on chain; from then on the entries are
public and every opening proves its entry's inclusion against the sealed root.

An omission is provable: a bidder holds the notary's signature on a box of size s and root r
that contains its entry; the sealed box must extend it (``check_receipt``: an RFC 9162
consistency proof from (s, r) to the sealed (size, root)). A notary that left the entry out
has signed a box the chain's sealed box does not extend.
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
from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_consistency, verify_inclusion

RECEIPT_TYPES = {"BoxReceipt": [{"name": "sectionId", "type": "bytes32"}, {"name": "index", "type": "uint32"},
                                {"name": "leafHash", "type": "bytes32"}, {"name": "boxSize", "type": "uint32"},
                                {"name": "boxRoot", "type": "bytes32"}]}


class BoxError(RuleError):
    code = "box_refused"


@dataclass(frozen=True)
class BoxReceipt:
    """The notary's signed word that an entry is in the box at ``index`` (box of ``box_size``, ``box_root``)."""

    section_id: bytes
    index: int
    leaf_hash: bytes
    box_size: int
    box_root: bytes
    inclusion: tuple[bytes, ...]
    signer: str
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {"sectionId": self.section_id, "index": self.index, "leafHash": self.leaf_hash,
                "boxSize": self.box_size, "boxRoot": self.box_root}

    def to_json(self) -> dict[str, Any]:
        return {"section_id": self.section_id.hex(), "index": self.index, "leaf_hash": self.leaf_hash.hex(),
                "box_size": self.box_size, "box_root": self.box_root.hex(),
                "inclusion": [h.hex() for h in self.inclusion], "signer": self.signer,
                "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "BoxReceipt":
        b = bytes.fromhex
        return cls(b(d["section_id"]), int(d["index"]), b(d["leaf_hash"]), int(d["box_size"]), b(d["box_root"]),
                   tuple(b(h) for h in d["inclusion"]), to_checksum_address(d["signer"]), b(d["signature"]))


def leaf_hash(entry: BoxEntry) -> bytes:
    return SHA256.hash_leaf(entry.leaf_data())


class SealedBox:
    """One section's box: entries in order, the Merkle tree over them, receipts signed by ``signer``."""

    def __init__(self, section_id: bytes, domain: dict[str, Any], entries: list[BoxEntry] | None = None) -> None:
        self.section_id, self.domain = section_id, domain
        self.entries: list[BoxEntry] = []
        self.tree = MerkleTree(SHA256)
        for entry in entries or ():
            self._append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def _append(self, entry: BoxEntry) -> int:
        if entry.section_id != self.section_id:
            raise BoxError("the entry is for another section")
        self.entries.append(entry)
        return self.tree.append_leaf_hash(leaf_hash(entry))

    def add(self, entry: BoxEntry, signer: LocalAccount) -> BoxReceipt:
        index = self._append(entry)
        return self.receipt(index, signer)

    def root(self, size: int | None = None) -> bytes:
        return self.tree.root(size)

    def receipt(self, index: int, signer: LocalAccount, size: int | None = None) -> BoxReceipt:
        size = len(self) if size is None else size
        unsigned = BoxReceipt(self.section_id, index, self.tree.leaf_hash(index), size, self.tree.root(size),
                              tuple(self.tree.inclusion_proof(index, size)), signer.address, b"")
        signed = signer.sign_typed_data(self.domain, RECEIPT_TYPES, unsigned.message())
        return BoxReceipt(**{**unsigned.__dict__, "signature": bytes(signed.signature)})

    def inclusion(self, index: int) -> list[bytes]:
        return self.tree.inclusion_proof(index, len(self))

    def consistency(self, size: int) -> list[bytes]:
        return self.tree.consistency_proof(size, len(self))


def check_receipt(receipt: BoxReceipt, notary: str, domain: dict[str, Any], sealed_size: int, sealed_root: bytes,
                  consistency: list[bytes]) -> None:
    """Raise ``VerificationError`` unless the receipt is the notary's and the sealed box extends it
    (so the entry is in the sealed box at its index): the bidder's check that it was not left out."""
    signable = encode_typed_data(domain, RECEIPT_TYPES, receipt.message())
    if Account.recover_message(signable, signature=receipt.signature) != to_checksum_address(notary):
        raise VerificationError("the box receipt is not signed by the section's notary")
    verify_inclusion(SHA256, receipt.index, receipt.box_size, receipt.leaf_hash, list(receipt.inclusion),
                     receipt.box_root)
    if sealed_size < receipt.box_size:
        raise VerificationError(f"omitted: the notary signed a box of {receipt.box_size} entries, the sealed box "
                                f"has {sealed_size}", signed_size=receipt.box_size, sealed_size=sealed_size)
    try:
        verify_consistency(SHA256, receipt.box_size, sealed_size, consistency, receipt.box_root, sealed_root)
    except VerificationError as exc:
        raise VerificationError(f"omitted or rewritten: the sealed box does not extend the box the notary signed "
                                f"({receipt.box_size} entries): {exc}") from exc
