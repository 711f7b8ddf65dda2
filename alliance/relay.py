"""The AllianceRelay contract from Python: members sign (EIP-712), anyone submits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.logs import DISCARD

from chain_node import Chain

ATTEST_GAS = 1_000_000  # an equivocation stores both signed attestations (more than 400k gas)
CHECKPOINT_TYPES = {"Checkpoint": [
    {"name": "sourceChainId", "type": "uint256"}, {"name": "registry", "type": "address"},
    {"name": "region", "type": "uint32"}, {"name": "treeSize", "type": "uint64"}, {"name": "root", "type": "bytes32"}]}


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
class Equivocation:
    tree_size: int
    first_member: str
    first_root: bytes
    first_signature: bytes
    second_member: str
    second_root: bytes
    second_signature: bytes


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
        return {"name": "LianzhengAllianceRelay", "version": "1", "chainId": self.chain.chain_id,
                "verifyingContract": self.address}

    def sign(self, member: LocalAccount, c: ForeignCheckpoint) -> bytes:
        message = {"sourceChainId": c.source_chain_id, "registry": to_checksum_address(c.registry),
                   "region": c.region, "treeSize": c.tree_size, "root": c.root}
        return bytes(member.sign_typed_data(self.domain(), CHECKPOINT_TYPES, message).signature)

    def attest(self, submitter: LocalAccount, c: ForeignCheckpoint, signature: bytes) -> bool:
        """Submit a signed attestation; True when it made the checkpoint accepted. Raises
        ``TransactionReverted`` (``AllianceRelayNotMember``, ``AllianceRelayStale`` ...) when refused."""
        outcome = self.chain.transact(submitter, self.contract.functions.attest(c.as_tuple(), signature),
                                      gas=ATTEST_GAS)
        receipt = self.chain.w3.eth.get_transaction_receipt(outcome.tx_hash)
        return bool(self.contract.events.CheckpointAccepted().process_receipt(receipt, errors=DISCARD))

    def set_members(self, admin: LocalAccount, members: list[str], threshold: int) -> None:
        self.chain.transact(admin, self.contract.functions.setMembers([to_checksum_address(m) for m in members],
                                                                      threshold))

    # --- reads -----------------------------------------------------------------------

    def accepted_root(self, c: ForeignCheckpoint) -> bytes | None:
        root = bytes(self.contract.functions.acceptedRoot(c.source_chain_id, to_checksum_address(c.registry),
                                                          c.region, c.tree_size).call())
        return root if any(root) else None

    def latest_accepted(self, source_chain_id: int, registry: str, region: int) -> tuple[int, bytes]:
        size, root = self.contract.functions.latestAccepted(source_chain_id, to_checksum_address(registry),
                                                            region).call()
        return size, bytes(root)

    def equivocations(self, source_chain_id: int, registry: str, region: int) -> list[Equivocation]:
        rows = self.contract.functions.equivocationsOf(source_chain_id, to_checksum_address(registry), region).call()
        return [Equivocation(size, a[0], bytes(a[1]), bytes(a[2]), b[0], bytes(b[1]), bytes(b[2]))
                for size, a, b in rows]
