"""Verify a receipt of province A while connected only to province B's chain (跨链共享互认).

B's ``AllianceRelay`` holds A's checkpoints once ``threshold`` alliance members attested them
(each member checked A's checkpoint signature against the key registered on A's chain and its
consistency with the history it had accepted). The verifier checks everything a receipt holds
offline, then that B accepted exactly this root for A's log at this size, and names the
members whose attestations it relied on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from lianzheng.sdk.cosign import AllianceMembers, Member, MembersRelay
from lianzheng.sdk.errors import AnchorError, RootMismatchError
from lianzheng.sdk.receipt import Receipt, parse_receipt
from lianzheng.sdk.registry import ContractReader
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.verifier import check_offline


@dataclass(frozen=True)
class AllianceVerified:
    region: str
    index: int
    tree_size: int
    source_chain_id: int
    source_registry: str
    chain_id: int
    relay: str
    attesters: tuple[str, ...]
    threshold: int
    block_time: int

    def summary(self) -> str:
        return (f"verified via alliance: region {self.region}, index {self.index} of {self.tree_size}, anchored on "
                f"chain {self.source_chain_id} at {utc_iso(self.block_time)}; accepted on chain {self.chain_id} "
                f"(relay {self.relay}) by {len(self.attesters)} of threshold {self.threshold}: "
                f"{', '.join(self.attesters)}")


class AllianceReader(ContractReader):
    """Read-only view of an AllianceRelay over JSON-RPC."""

    CONTRACT, WHAT = "AllianceRelay", "alliance relay"

    def accepted_root(self, source_chain_id: int, registry: str, region: int, tree_size: int) -> bytes | None:
        root = bytes(self.read("acceptedRoot", source_chain_id, to_checksum_address(registry), region, tree_size))
        return root if any(root) else None

    def attesters(self, source_chain_id: int, registry: str, region: int, tree_size: int, root: bytes) -> list[str]:
        return list(self.read("attestersOf", source_chain_id, to_checksum_address(registry), region, tree_size, root))

    def threshold(self) -> int:
        return int(self.read("threshold"))

    def members(self) -> list[str]:
        return list(self.read("members"))

    def member_epoch(self, account: str) -> int:
        """The epoch ``account`` signs attestations in (0: not a member)."""
        return int(self.read("memberEpochOf", to_checksum_address(account)))

    def members_file(self) -> AllianceMembers:
        """This relay's members (each at its current epoch) and threshold, as ``members.json``
        holds them for verifying receipts offline (``sdk.cosign``)."""
        return AllianceMembers(relay=MembersRelay(chain_id=self.chain_id, address=self.address),
                               threshold=self.threshold(),
                               members=[Member(address=m, epoch=self.member_epoch(m)) for m in self.members()])


def verify_via_alliance(
    alliance: AllianceReader,
    receipt: Receipt | str | bytes | dict[str, Any],
    event: dict[str, Any] | None = None,
    document_sha256: str | None = None,
) -> AllianceVerified:
    """Offline checks, then B's acceptance of A's root at the receipt's size."""
    if not isinstance(receipt, Receipt):
        receipt = parse_receipt(receipt)
    checkpoint, _, _ = check_offline(receipt, event, document_sha256)
    anchor = receipt.anchor
    assert anchor is not None  # check_offline refused pending receipts
    if anchor.chain_id == alliance.chain_id:
        raise AnchorError(f"receipt is anchored on this chain ({alliance.chain_id}): verify it directly")
    region = int(receipt.log.region)
    threshold = alliance.threshold()
    accepted = alliance.accepted_root(anchor.chain_id, anchor.registry, region, checkpoint.size)
    attesters = alliance.attesters(anchor.chain_id, anchor.registry, region, checkpoint.size, checkpoint.root)
    members = set(alliance.members())
    counted = tuple(a for a in attesters if a in members)
    if accepted is None:
        raise AnchorError(
            f"chain {alliance.chain_id} has not accepted region {region}'s checkpoint at size {checkpoint.size} "
            f"of chain {anchor.chain_id}: {len(counted)} of {threshold} member attestations")
    if accepted != checkpoint.root:
        raise RootMismatchError(checkpoint.size, checkpoint.root, accepted, "root accepted by the alliance")
    return AllianceVerified(receipt.log.region, receipt.index, checkpoint.size, anchor.chain_id,
                            to_checksum_address(anchor.registry), alliance.chain_id, alliance.address, counted,
                            threshold, anchor.block_time)
