"""A member's relayer: follow other provinces' logs, check each checkpoint, attest it.

For every checkpoint a source notary anchors (read from the source chain's registry, in order
of size) the relayer fetches the signed checkpoint and a consistency proof from the source
notary and checks: the signature against the key registered on the source chain, the root
against the anchored root, and consistency with the last checkpoint it accepted. Only then
does it sign an attestation and submit it to every destination AllianceRelay, and hand the same
signature to the source notary as a cosignature (``POST /v1/cosignatures``), so that receipts of
that size verify with no chain at all (``sdk.cosign``). A checkpoint
that fails a check is refused and reported, and the source is not followed past it: a
notary that rewrote its history stays refused until people look at it. A notary that refuses a
cosignature (or is not reachable for it) does not stop the relayer: the attestation on chain is
what the alliance relies on, and the report says what the notary answered.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from eth_account.signers.local import LocalAccount

from lianzheng.alliance.relay_contract import AllianceRelay, ForeignCheckpoint, SignedAttestation
from lianzheng.chain_node import ChainError, TransactionReverted
from lianzheng.sdk.checkpoint import Checkpoint, SignedNote
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.merkle import hasher, verify_consistency
from lianzheng.sdk.registry import RegistryReader

HAND_OVER_WAITS = (0.2, 0.5, 1.0, 2.0, None)  # seconds between asks while the notary confirms its anchor


@dataclass(frozen=True)
class Source:
    """A notary log of another member province: its chain, registry, region and notary URL."""

    name: str
    rpc: str
    registry: str
    region: int
    notary_url: str


@dataclass(frozen=True)
class Report:
    source: str
    tree_size: int
    status: str  # attested | accepted | refused
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():8} {self.source} size {self.tree_size}: {self.detail}"


@dataclass
class _Followed:
    size: int = 0
    root: str = ""
    block: int = 0


@dataclass
class Relayer:
    member: LocalAccount
    sources: list[Source]
    destinations: list[AllianceRelay]
    state_path: Path
    state: dict[str, _Followed] = field(default_factory=dict)
    _readers: dict[tuple[str, str], RegistryReader] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.state_path.is_file():
            raw = json.loads(self.state_path.read_text())
            self.state = {k: _Followed(**v) for k, v in raw.items()}

    def _save(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: vars(v) for k, v in self.state.items()}, indent=1))
        os.replace(tmp, self.state_path)

    def poll(self) -> list[Report]:
        """One pass over every source; returns what was attested, accepted or refused."""
        reports: list[Report] = []
        for source in self.sources:
            try:
                reports += self._follow(source)
            except (VerificationError, ChainError, httpx.HTTPError, NotaryClientError, OSError) as exc:
                reports.append(Report(source.name, 0, "error", f"cannot follow: {exc}"))
        return reports

    def _follow(self, source: Source) -> list[Report]:
        reader = self._readers.get((source.rpc, source.registry))
        if reader is None:  # connect once per source, not on every pass
            reader = self._readers[(source.rpc, source.registry)] = RegistryReader(source.rpc, source.registry)
        key = f"{reader.chain_id}:{reader.address}:{source.region}"
        followed = self.state.setdefault(key, _Followed())
        log = reader.log_of(source.region)
        if not any(log.checkpoint_key) or log.latest_size <= followed.size:
            return []
        events = reader.contract.logs("CheckpointAnchored", from_block=followed.block, region=source.region)
        anchored = sorted({(e.args["treeSize"], bytes(e.args["root"]), e.block_number) for e in events})
        h = hasher(log.hash)
        reports = []
        with NotaryClient(source.notary_url, retries=1) as client:
            for size, root, block in anchored:
                if size <= followed.size:
                    continue
                key = reader.checkpoint_key_at(source.region, size)  # keys rotate: this size's
                problem = self._check(client, h, log.origin, key, followed, size, root)
                if problem:
                    reports.append(Report(source.name, size, "refused", problem))
                    return reports
                checkpoint = ForeignCheckpoint(reader.chain_id, reader.address, source.region, size, root)
                targets = [r for r in self.destinations if r.chain.chain_id != reader.chain_id]
                accepted, handed = [], []
                for relay in targets:
                    attestation = relay.sign(self.member, checkpoint)
                    accepted.append(self._attest(relay, checkpoint, attestation))
                    handed.append(self._hand_over(client, relay, checkpoint, attestation))
                followed.size, followed.root, followed.block = size, root.hex(), block
                self._save()
                status = "accepted" if all(accepted) else "attested"
                refused = "".join(f"; {problem}" for problem in handed if problem)
                reports.append(Report(source.name, size, status, f"root {root.hex()} on chains "
                                      f"{', '.join(str(r.chain.chain_id) for r in targets)}{refused}"))
        return reports

    @staticmethod
    def _check(client: NotaryClient, h, origin: str, key: bytes, followed: _Followed, size: int,
               root: bytes) -> str | None:
        """Why this anchored checkpoint must not be attested, or None."""
        try:
            body = client.checkpoint(size)
            note = SignedNote.parse(body["note"])
            note.verify(origin, key)
            signed = Checkpoint.parse_body(note.body)
        except NotaryClientError as exc:
            return f"the notary does not serve the checkpoint anchored at {size}: {exc.message}"
        except (VerificationError, KeyError, ValueError) as exc:
            return f"checkpoint signature or format invalid against the key registered on chain: {exc}"
        if (signed.size, signed.root) != (size, root):
            return f"signed checkpoint ({signed.size}, {signed.root.hex()}) is not the anchored ({size}, {root.hex()})"
        if followed.size:
            previous = bytes.fromhex(followed.root)
            try:
                verify_consistency(h, followed.size, size, client.consistency(followed.size, size), previous, root)
            except (VerificationError, NotaryClientError) as exc:
                return (f"not consistent with the checkpoint accepted before: ({followed.size}, {followed.root}) "
                        f"→ ({size}, {root.hex()}): {exc}")
        return None

    def _hand_over(self, client: NotaryClient, relay: AllianceRelay, checkpoint: ForeignCheckpoint,
                   attestation: SignedAttestation) -> str | None:
        """Give the source notary our attestation as a cosignature; why it did not take it, or None."""
        cosignature = {"relay": {"chain_id": relay.chain.chain_id, "address": relay.address},
                       "member": self.member.address, "epoch": attestation.member_epoch,
                       "signature": "0x" + attestation.signature.hex()}
        for wait in HAND_OVER_WAITS:
            try:
                client.cosign(cosignature, checkpoint.tree_size, checkpoint.root)
                return None
            except NotaryClientError as exc:
                # The notary confirms its anchor a moment after the chain shows it: ask again.
                if exc.code != "cosignature_unanchored" or wait is None:
                    return f"the notary did not take the cosignature for chain {relay.chain.chain_id}: {exc.message}"
            except httpx.HTTPError as exc:
                return f"the notary is not reachable for the cosignature: {exc}"
            time.sleep(wait)
        return None  # not reached: the last wait is None

    def _attest(self, relay: AllianceRelay, checkpoint: ForeignCheckpoint, attestation: SignedAttestation) -> bool:
        try:
            return relay.attest(self.member, checkpoint, attestation)
        except TransactionReverted as exc:
            if exc.reason.startswith(("AllianceRelayStale", "AllianceRelayAlreadyAttested")):
                return relay.accepted_root(checkpoint) == checkpoint.root  # others were faster, or a rerun
            raise VerificationError(f"chain {relay.chain.chain_id} refused the attestation: {exc.reason}") from exc
