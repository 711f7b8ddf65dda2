"""Alliance members' cosignatures of this notary's anchored checkpoints (``POST /v1/cosignatures``).

A member's relayer, after checking one of our anchored checkpoints and attesting it on another
province's AllianceRelay, hands the same EIP-712 signature to us; anchored receipts of that
tree size then carry it (``sdk.receipt.Cosignature``) and verify with no chain at all
(``sdk.cosign``). No key is needed to hand one over: the signature is the authentication. It is
held only if it recovers to the named member over the struct for OUR OWN anchored checkpoint
at that size (our chain id, registry and region from the confirmed anchor row, its size and
root), so nothing a caller sends can put a foreign or false claim into a receipt.

Limits (threats: storage and receipt bloat by anyone with fresh keys): at most
``PER_RELAY`` members per (size, relay) and ``RELAYS`` relays per size; beyond them 422
``cosignatures_full`` (a permanent refusal: waiting does not free a slot), plus the per-client
rate of ``notary.api.limits``. The notary cannot know who the members are (that is on other
chains), so a flood of fresh keys can fill a size's slots before the members hand theirs over:
receipts of that size then lack cosignatures (they still verify against the chain). The
verifier counts only members it lists, so a filled slot never makes a receipt verify.
"""
from __future__ import annotations

import time
from typing import Protocol

from eth_utils import to_checksum_address

from lianzheng.notary.errors import CosignatureInvalid, CosignatureMismatch, CosignatureUnanchored
from lianzheng.notary.models import AnchorIntent, CheckpointCosignature
from lianzheng.sdk.cosign import CheckpointClaim, signed_by
from lianzheng.sdk.receipt import Cosignature

PER_RELAY = 32  # an alliance has a few members per relay (four provinces in the Yellow River's)
RELAYS = 8  # relays per size: every member chain's AllianceRelay, with room to spare


class CosignatureStore(Protocol):
    def anchor_at(self, tree_size: int) -> AnchorIntent | None: ...

    def add_cosignature(self, row: CheckpointCosignature, per_relay: int, relays: int) -> tuple[str, int]: ...


class CheckpointCosigners:
    """Checks and holds cosignatures of one log's anchored checkpoints."""

    def __init__(self, store: CosignatureStore, region: int) -> None:
        self.store, self.region = store, region

    def accept(self, cosignature: Cosignature, tree_size: int, root: bytes) -> tuple[str, int]:
        """Hold ``cosignature`` of our checkpoint (``tree_size``, ``root``): ``added``, ``held`` or
        ``replaced``, and how many that size and relay have; ``CosignatureRefused`` otherwise."""
        anchor = self.store.anchor_at(tree_size)
        if anchor is None:
            raise CosignatureUnanchored(f"no checkpoint of this log is anchored at tree size {tree_size}",
                                        tree_size=tree_size)
        if bytes(anchor.root) != root:
            raise CosignatureMismatch(f"the checkpoint anchored at size {tree_size} has root "
                                      f"{bytes(anchor.root).hex()}, not {root.hex()}",
                                      tree_size=tree_size, anchored=bytes(anchor.root).hex())
        claim = CheckpointClaim(anchor.chain_id, to_checksum_address(anchor.registry_address), self.region,
                                tree_size, root)
        if not signed_by(cosignature, claim):
            raise CosignatureInvalid(f"the signature is not {cosignature.member}'s attestation (epoch "
                                     f"{cosignature.epoch}, relay {cosignature.relay.address} on chain "
                                     f"{cosignature.relay.chain_id}) of this log's checkpoint at size {tree_size}",
                                     member=cosignature.member)
        row = CheckpointCosignature(tree_size=tree_size, relay_chain_id=cosignature.relay.chain_id,
                                    relay_address=to_checksum_address(cosignature.relay.address),
                                    member=to_checksum_address(cosignature.member), epoch=cosignature.epoch,
                                    signature=bytes.fromhex(cosignature.signature[2:]), received_at=time.time())
        return self.store.add_cosignature(row, PER_RELAY, RELAYS)
