"""The AllianceRelay contract from Python: members sign (EIP-712, bound to their member epoch),
anyone submits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.chain_node import Chain
from lianzheng.sdk.cosign import CHECKPOINT_TYPES, RELAY_NAME, RELAY_VERSION

ATTEST_GAS = 1_000_000  # an equivocation stores both signed attestations (more than 400k gas)
EQUIVOCATION_PAGE = 50  # the contract's MAX_PAGE


@dataclass(frozen=True)
class ForeignCheckpoint:
    """A checkpoint of another province's log, as members attest it."""

    source_chain_id: int
    registry: str
    region: int
    tree_size: int
    root: bytes

    def as_tuple(self) -> tuple:
        return (self.source_chain_id, to_checksum_address(self.registry), self.region, self.tree_size, self.root)


@dataclass(frozen=True)
class SignedAttestation:
    """A member's signature of a checkpoint, bound to the member epoch it was made in: once the
    member is removed (and maybe added again) the signature no longer counts."""

    member_epoch: int
    signature: bytes


@dataclass(frozen=True)
class Equivocation:
    tree_size: int
    first_member: str
    first_root: bytes
    first_signature: bytes
    second_member: str
    second_root: bytes
    second_signature: bytes
    first_epoch: int = 0
    second_epoch: int = 0


class AllianceRelay:
    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.contract = chain.contract("AllianceRelay", address)
        self.address = self.contract.address

    @classmethod
    def deploy(cls, chain: Chain, admin: LocalAccount, members: list[str], threshold: int) -> "AllianceRelay":
        return cls(chain, chain.deploy(admin, "AllianceRelay", admin.address,
                                       [to_checksum_address(m) for m in members], threshold))

    def domain(self) -> dict[str, Any]:
        return {"name": RELAY_NAME, "version": RELAY_VERSION, "chainId": self.chain.chain_id,
                "verifyingContract": self.address}

    def member_epoch(self, account: str) -> int:
        """The epoch ``account`` signs with on this relay (0: not a member)."""
        return int(self.contract.read("memberEpochOf", to_checksum_address(account)))

    def sign(self, member: LocalAccount, c: ForeignCheckpoint, epoch: int | None = None) -> SignedAttestation:
        """``member``'s attestation of ``c`` in its current epoch on this relay (or ``epoch``)."""
        epoch = self.member_epoch(member.address) if epoch is None else epoch
        message = {"sourceChainId": c.source_chain_id, "registry": to_checksum_address(c.registry),
                   "region": c.region, "treeSize": c.tree_size, "root": c.root, "memberEpoch": epoch}
        signed = member.sign_typed_data(self.domain(), CHECKPOINT_TYPES, message)
        return SignedAttestation(epoch, bytes(signed.signature))

    def attest(self, submitter: LocalAccount, c: ForeignCheckpoint, attestation: SignedAttestation) -> bool:
        """Submit a signed attestation; True when it made the checkpoint accepted. Raises
        ``TransactionReverted`` (``AllianceRelayNotMember``, ``AllianceRelayStale`` ...) when refused."""
        call = self.contract.tx("attest", (*c.as_tuple(), attestation.member_epoch), attestation.signature)
        return self._accepted(self.chain.transact(submitter, call, gas=ATTEST_GAS))

    def confirm(self, submitter: LocalAccount, c: ForeignCheckpoint) -> bool:
        """Accept a pending checkpoint that reaches the threshold under the current members and
        threshold (after the threshold was lowered); ``AllianceRelayBelowThreshold`` otherwise."""
        return self._accepted(self.chain.transact(submitter, self.contract.tx("confirm", *c.as_tuple())))

    def _accepted(self, outcome) -> bool:
        return bool(self.contract.logs_in(outcome.receipt, "CheckpointAccepted"))

    def set_members(self, admin: LocalAccount, members: list[str], threshold: int) -> None:
        self.chain.transact(admin, self.contract.tx("setMembers", [to_checksum_address(m) for m in members],
                                                                      threshold))

    # --- reads -----------------------------------------------------------------------

    def accepted_root(self, c: ForeignCheckpoint) -> bytes | None:
        root = bytes(self.contract.read("acceptedRoot", c.source_chain_id, to_checksum_address(c.registry),
                                                          c.region, c.tree_size))
        return root if any(root) else None

    def latest_accepted(self, source_chain_id: int, registry: str, region: int) -> tuple[int, bytes]:
        size, root = self.contract.read("latestAccepted", source_chain_id, to_checksum_address(registry),
                                                            region)
        return size, bytes(root)

    def equivocation_count(self, source_chain_id: int, registry: str, region: int) -> int:
        return int(self.contract.read("equivocationCount", source_chain_id, to_checksum_address(registry),
                                                             region))

    def equivocations(self, source_chain_id: int, registry: str, region: int, start: int = 0,
                      limit: int | None = None) -> list[Equivocation]:
        """Recorded split views from index ``start`` on (all of them, or ``limit``), page by page."""
        fns, registry = self.contract, to_checksum_address(registry)
        total = self.equivocation_count(source_chain_id, registry, region)
        end = total if limit is None else min(total, start + limit)
        found: list[Equivocation] = []
        while start + len(found) < end:
            at = start + len(found)
            rows = fns.read("equivocationsOf", source_chain_id, registry, region, at,
                                       min(EQUIVOCATION_PAGE, end - at))
            if not rows:
                break
            found += [Equivocation(size, a[0], bytes(a[2]), bytes(a[3]), b[0], bytes(b[2]), bytes(b[3]), a[1], b[1])
                      for size, a, b in rows]
        return found
