"""Receipts that outlive the chain: verify with alliance members' cosignatures, no chain at all.

Like OpenTimestamps' independence from its calendars and Rekor's witnesses: once enough
alliance members have attested a checkpoint, a receipt of it verifies with only their keys.

What a member signs is the EIP-712 attestation its relayer already makes for an AllianceRelay
(``alliance.relayer``): the struct ``Checkpoint(sourceChainId, registry, region, treeSize, root,
memberEpoch)`` under the domain ``LianzhengAllianceRelay`` / ``1`` / the relay's chain id and
address. The relayer signs it only after checking the checkpoint's signature against the key
registered on the source chain, the root against the anchored root and consistency with what it
accepted before; it then hands the signature to the source notary (``POST /v1/cosignatures``),
which puts it in the receipts of that tree size. No new key type: a member is its relayer's
Ethereum account, as on chain.

``members.json`` (``lianzheng-alliance-members/1``, written by ``lianzheng alliance members``
from a live relay) is what an offline verifier trusts instead of a chain::

    {"format": "lianzheng-alliance-members/1",
     "relay": {"name": "LianzhengAllianceRelay", "version": "1", "chain_id": 6200, "address": "0x…"},
     "threshold": 2,
     "members": [{"address": "0x…", "epoch": 1}, …]}

``verify_offline`` runs every check that needs no chain (``verifier.check_offline``: event,
digest, inclusion proof up to the checkpoint) and then counts the DISTINCT listed members whose
signature, at their listed epoch and for the listed relay, recovers over exactly this receipt's
(anchor chain id, anchor registry, region, checkpoint size, checkpoint root). Fewer than the
threshold: ``CosignatureThresholdError`` with how many of how many and why each other one did not
count. Signatures must be low-s (as OpenZeppelin's ECDSA, which the relay uses, requires).

What offline verification does not show, and the summary says so: the anchor's transaction,
block and time (members sign the root, not the block), and the notary's own checkpoint
signature (its key is registered on chain). Members attested that this root was anchored and
signed by the registered key; trusting k of them for that is the point.

Threats (who could cheat → how it is refused → test in tests/sdk/test_cosign.py unless named):
- the operator rewrites an event and re-signs a tree around it → members signed the anchored root,
  not this one → ``test_a_rewritten_event_in_a_re_signed_tree_is_not_what_members_cosigned``
- anyone adds signatures by fresh keys, or one member's twice → only distinct listed members
  count → ``signed-by-a-non-member``, ``same-member-twice``
- a receipt relabelled to another registry, chain, relay or epoch → all are in the signed
  struct → ``anchor-registry-relabelled``, ``relay-relabelled``, ``epoch-relabelled``
- a malleated (high-s) copy of a signature → refused as the relay refuses it → ``high-s-signature``
- a member removed from the relay → its epoch in members.json differs → ``signed-in-another-epoch``
- junk handed to the notary → refused unless over its own anchored checkpoint, bounded per size
  → tests/notary/test_cosignatures.py
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from eth_abi import encode
from eth_keys import keys
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeysValidationError
from eth_utils import keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lianzheng.sdk.errors import CosignatureThresholdError, MalformedError, first_invalid
from lianzheng.sdk.receipt import ADDRESS, Cosignature, Receipt, RelayDomain, parse_receipt
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.verifier import check_offline

MEMBERS_FORMAT = "lianzheng-alliance-members/1"
RELAY_NAME, RELAY_VERSION = "LianzhengAllianceRelay", "1"
MAX_MEMBERS_BYTES = 1024 * 1024
# The struct AllianceRelay verifies (contracts/src/AllianceRelay.sol), in eth_account's notation.
CHECKPOINT_TYPES = {"Checkpoint": [
    {"name": "sourceChainId", "type": "uint256"}, {"name": "registry", "type": "address"},
    {"name": "region", "type": "uint32"}, {"name": "treeSize", "type": "uint64"}, {"name": "root", "type": "bytes32"},
    {"name": "memberEpoch", "type": "uint64"}]}
_DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_CHECKPOINT_TYPEHASH = keccak(b"Checkpoint(uint256 sourceChainId,address registry,uint32 region,uint64 treeSize,"
                              b"bytes32 root,uint64 memberEpoch)")
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class CheckpointClaim:
    """What members attest: a notary log's checkpoint as its own chain anchored it."""

    source_chain_id: int
    registry: str
    region: int
    tree_size: int
    root: bytes


def attestation_digest(relay: RelayDomain, claim: CheckpointClaim, epoch: int) -> bytes:
    """The EIP-712 digest a member signs for ``relay`` (``\\x19\\x01 ‖ domain ‖ struct``)."""
    domain = keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                           [_DOMAIN_TYPEHASH, keccak(RELAY_NAME.encode()), keccak(RELAY_VERSION.encode()),
                            relay.chain_id, to_checksum_address(relay.address)]))
    struct = keccak(encode(["bytes32", "uint256", "address", "uint32", "uint64", "bytes32", "uint64"],
                           [_CHECKPOINT_TYPEHASH, claim.source_chain_id, to_checksum_address(claim.registry),
                            claim.region, claim.tree_size, claim.root, epoch]))
    return keccak(b"\x19\x01" + domain + struct)


def recover_signer(digest: bytes, signature: bytes) -> str | None:
    """The checksummed address that made ``signature`` (r ‖ s ‖ v) over ``digest``, or None
    when it is not a valid low-s secp256k1 signature."""
    if len(signature) != 65:
        return None
    r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
    v = v - 27 if v in (27, 28) else v
    if v not in (0, 1) or not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        return None
    try:
        return keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest).to_checksum_address()
    except (BadSignature, KeysValidationError, ValueError):
        return None


def signed_by(cosignature: Cosignature, claim: CheckpointClaim) -> bool:
    """Whether ``cosignature`` is its member's attestation of exactly ``claim`` at its epoch."""
    digest = attestation_digest(cosignature.relay, claim, cosignature.epoch)
    signer = recover_signer(digest, bytes.fromhex(cosignature.signature[2:]))
    return signer is not None and signer == to_checksum_address(cosignature.member)


# --- members.json ------------------------------------------------------------------------

class MembersRelay(RelayDomain):
    name: Literal["LianzhengAllianceRelay"] = RELAY_NAME
    version: Literal["1"] = RELAY_VERSION

    def domain(self) -> RelayDomain:
        return RelayDomain(chain_id=self.chain_id, address=self.address)


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    address: str = Field(pattern=ADDRESS)
    epoch: int = Field(ge=1, lt=2**64)


class AllianceMembers(BaseModel):
    """Whom an offline verifier trusts: one relay's members (each at its epoch) and threshold."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["lianzheng-alliance-members/1"] = MEMBERS_FORMAT
    relay: MembersRelay
    threshold: int = Field(ge=1)
    members: list[Member] = Field(min_length=1, max_length=256)

    @field_validator("members")
    @classmethod
    def _distinct(cls, members: list[Member]) -> list[Member]:
        if len({m.address.lower() for m in members}) != len(members):
            raise ValueError("a member is listed twice")
        return members

    def epochs(self) -> dict[str, int]:
        return {to_checksum_address(m.address): m.epoch for m in self.members}

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=1) + "\n"


def parse_members(data: str | bytes | dict[str, Any]) -> AllianceMembers:
    """``AllianceMembers`` from members.json text or an object; ``MalformedError`` otherwise."""
    if isinstance(data, (str, bytes)):
        if len(data) > MAX_MEMBERS_BYTES:
            raise MalformedError("members file is larger than 1 MiB")
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise MalformedError(f"not a {MEMBERS_FORMAT} file: not JSON ({exc})") from exc
    try:
        members = AllianceMembers.model_validate(data)
    except ValidationError as exc:
        raise first_invalid(exc, f"not a {MEMBERS_FORMAT} file", "members") from exc
    if members.threshold > len(members.members):
        raise MalformedError(f"threshold {members.threshold} is more than the {len(members.members)} members listed")
    return members


# --- verification -----------------------------------------------------------------------

@dataclass(frozen=True)
class CosignedVerified:
    region: str
    index: int
    tree_size: int
    chain_id: int
    registry: str
    block_time: int
    relay: RelayDomain
    signers: tuple[str, ...]
    threshold: int
    listed: int

    def summary(self) -> str:
        return (f"verified offline: region {self.region}, index {self.index} of {self.tree_size}, anchored on chain "
                f"{self.chain_id} (registry {self.registry}); cosigned by {len(self.signers)} of {self.listed} "
                f"members (threshold {self.threshold}) of relay {self.relay.address} on chain {self.relay.chain_id}: "
                f"{', '.join(self.signers)}; not checked offline: the anchor's block and time "
                f"({utc_iso(self.block_time)}, as the receipt states it)")


def claim_of(receipt: Receipt, tree_size: int, root: bytes) -> CheckpointClaim:
    anchor = receipt.anchor
    assert anchor is not None
    return CheckpointClaim(anchor.chain_id, to_checksum_address(anchor.registry), int(receipt.log.region), tree_size,
                           root)


def count_cosigners(cosignatures: list[Cosignature], members: AllianceMembers,
                    claim: CheckpointClaim) -> tuple[tuple[str, ...], list[str]]:
    """The distinct listed members whose cosignature holds for ``claim``, and why each other did not."""
    relay, epochs = members.relay.domain(), members.epochs()
    counted: list[str] = []
    refused: list[str] = []
    for c in cosignatures:
        member = to_checksum_address(c.member)
        if c.relay.chain_id != relay.chain_id or c.relay.address.lower() != relay.address.lower():
            refused.append(f"{member}: for relay {c.relay.address} on chain {c.relay.chain_id}, not the listed one")
        elif member not in epochs:
            refused.append(f"{member}: not a listed member")
        elif c.epoch != epochs[member]:
            refused.append(f"{member}: signed in epoch {c.epoch}, listed epoch is {epochs[member]}")
        elif not signed_by(c, claim):
            refused.append(f"{member}: signature is not its attestation of this checkpoint "
                           f"(size {claim.tree_size}, root {claim.root.hex()})")
        elif member in counted:
            refused.append(f"{member}: counted once already")
        else:
            counted.append(member)
    return tuple(counted), refused


def verify_offline(
    receipt: Receipt | str | bytes | dict[str, Any],
    members: AllianceMembers,
    event: dict[str, Any] | None = None,
    document_sha256: str | None = None,
) -> CosignedVerified:
    """Verify ``receipt`` with no chain: its offline checks, then ``threshold`` members' cosignatures."""
    if not isinstance(receipt, Receipt):
        receipt = parse_receipt(receipt)
    checkpoint, _, _ = check_offline(receipt, event, document_sha256)
    anchor = receipt.anchor
    assert anchor is not None  # check_offline refused pending receipts
    claim = claim_of(receipt, checkpoint.size, checkpoint.root)
    signers, refused = count_cosigners(receipt.cosignatures, members, claim)
    if len(signers) < members.threshold:
        raise CosignatureThresholdError(len(signers), members.threshold, len(members.members), signers, refused)
    return CosignedVerified(receipt.log.region, receipt.index, checkpoint.size, anchor.chain_id, claim.registry,
                            anchor.block_time, members.relay.domain(), signers, members.threshold,
                            len(members.members))
