"""Verify a receipt against the chain alone, never trusting the notary server.

The chain of checks: event (or document) → event digest → leaf → inclusion proof →
checkpoint signature by the key registered on chain → root anchored in the registry at
that size, by the transaction the receipt names. Each failure raises a
``VerificationError`` subclass that says which link broke.

``Verifier.verify_many`` answers the same for many receipts, reading the chain once per
checkpoint they lead to.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from eth_utils import to_checksum_address

from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof
from lianzheng.sdk.errors import (
    AnchorError,
    EventMismatchError,
    MalformedError,
    PendingError,
    RootMismatchError,
    VerificationError,
)
from lianzheng.sdk.event import (
    document_hashes,
    event_digest,
    is_public_form,
    parse_event,
    parse_public_event,
)
from lianzheng.sdk.merkle import hasher, verify_inclusion
from lianzheng.sdk.receipt import Receipt, parse_receipt
from lianzheng.sdk.registry import AnchorRecord, AnchorTx, LogRecord, RegistryView
from lianzheng.sdk.times import utc_iso

# EIP-55 costs a Keccak hash: a third of a receipt's verification in a batch, where every receipt
# names the same registry.
_checksummed = lru_cache(maxsize=64)(to_checksum_address)


@dataclass(frozen=True)
class Verified:
    region: str
    index: int
    tree_size: int
    chain_id: int
    registry: str
    tx_hash: str
    block_number: int
    block_time: int

    def summary(self) -> str:
        when = utc_iso(self.block_time)
        return (
            f"verified: region {self.region}, index {self.index} of {self.tree_size}, "
            f"block {self.block_number} at {when}, chain {self.chain_id}, registry {self.registry}"
        )


def _diff_fields(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))


def check_offline(
    receipt: Receipt, event: dict[str, Any] | None = None, document_sha256: str | None = None
) -> tuple[Checkpoint, SignedNote, dict[str, Any]]:
    """Every check that needs no chain. Returns the checkpoint the proof leads to."""
    h = hasher(receipt.log.hash)
    if is_public_form(receipt.event):
        notarized = parse_public_event(receipt.event)
        if event is not None:
            raise EventMismatchError("this is a public receipt (payload sealed): checking an event you hold needs "
                                     "its full receipt, from the notary with your writer or reader key")
    else:
        notarized = parse_event(receipt.event)
        if "salt" not in notarized:
            raise MalformedError("receipt event has no salt")
    if notarized.get("id") != receipt.event_id:
        # The id is what a reader looks a receipt up by: a receipt relabelled to another id
        # must not pass for that other event.
        raise EventMismatchError(f"receipt names event {receipt.event_id!r}, its notarized event is "
                                 f"{notarized.get('id')!r}", event_id=receipt.event_id, notarized=notarized.get("id"))
    digest = event_digest(notarized, h)
    if event is not None:
        held = dict(event)
        held.setdefault("salt", notarized["salt"])
        if "prev" in notarized:  # the notary's link to the section's previous event
            held.setdefault("prev", notarized["prev"])
        if "id" not in held and "id" in notarized:
            held["id"] = notarized["id"]
        try:
            held = parse_event(held)
        except MalformedError as exc:
            raise EventMismatchError(f"the event you hold is not a valid event: {exc}") from exc
        if event_digest(held, h) != digest:
            fields = _diff_fields(held, notarized)
            raise EventMismatchError(f"event differs from the notarized one in: {', '.join(fields)}", fields=fields)
    if document_sha256 is not None and document_sha256 not in document_hashes(notarized):
        raise EventMismatchError(
            f"document sha256 {document_sha256} is not referenced by the notarized event", sha256=document_sha256
        )
    if digest.hex() != receipt.event_digest:
        raise EventMismatchError("receipt event does not hash to the receipt's event digest",
                                 computed=digest.hex(), expected=receipt.event_digest)
    if notarized["region"] != receipt.log.region:
        raise EventMismatchError(f"event region {notarized['region']} is not the log's region {receipt.log.region}")
    if receipt.status != "anchored" or receipt.proof is None or receipt.anchor is None:
        raise PendingError("receipt is pending: fetch the anchored receipt from the notary and verify again")
    proof = TlogProof.parse(receipt.proof)
    if proof.index != receipt.index:
        raise MalformedError(f"proof is for index {proof.index}, receipt says {receipt.index}")
    note = SignedNote.parse(proof.checkpoint_note)
    checkpoint = Checkpoint.parse_body(note.body)
    if checkpoint.origin != receipt.log.origin:
        raise MalformedError(f"checkpoint origin {checkpoint.origin!r} is not the log {receipt.log.origin!r}")
    if checkpoint.size != receipt.anchor.tree_size:
        raise AnchorError(f"checkpoint size {checkpoint.size} differs from anchored size {receipt.anchor.tree_size}")
    verify_inclusion(h, proof.index, checkpoint.size, h.hash_leaf(digest), list(proof.hashes), checkpoint.root)
    return checkpoint, note, notarized


T = TypeVar("T")


class _ChainReads:
    """The chain reads (and checkpoint signature checks) of one ``verify`` or ``verify_many``,
    each distinct question asked once and its answer, or its error, reused.

    Receipts under one checkpoint ask the same questions (the region's log, the key and the
    anchor at the checkpoint's size, the anchor transaction) and carry the same signed note, so
    a batch reads the chain and checks the signature once per checkpoint.
    """

    def __init__(self, registry: RegistryView) -> None:
        self.registry = registry
        self._answers: dict[tuple[Any, ...], tuple[Any, VerificationError | None]] = {}

    def _once(self, question: tuple[Any, ...], ask: Callable[[], T]) -> T:
        found = self._answers.get(question)
        if found is None:
            try:
                answer = ask()
            except VerificationError as exc:
                self._answers[question] = (None, exc)
                raise
            self._answers[question] = (answer, None)
            return answer
        answer, error = found
        if error is not None:  # the same error for every receipt that asks again
            raise error.with_traceback(None)
        return answer

    def log_of(self, region: int) -> LogRecord:
        return self._once(("log_of", region), lambda: self.registry.log_of(region))

    def checkpoint_key_at(self, region: int, size: int) -> bytes:
        return self._once(("checkpoint_key_at", region, size), lambda: self.registry.checkpoint_key_at(region, size))

    def checkpoint_at(self, region: int, size: int) -> AnchorRecord | None:
        return self._once(("checkpoint_at", region, size), lambda: self.registry.checkpoint_at(region, size))

    def anchor_tx(self, tx_hash: str) -> AnchorTx | None:
        return self._once(("anchor_tx", tx_hash), lambda: self.registry.anchor_tx(tx_hash))

    def verify_note(self, note: SignedNote, name: str, key: bytes) -> None:
        self._once(("note", note, name, key), lambda: note.verify(name, key))


class Verifier:
    """Verifies receipts with what one chain says. ``registry`` is the view of that chain."""

    def __init__(self, registry: RegistryView) -> None:
        self.registry = registry

    def verify(
        self,
        receipt: Receipt | str | bytes | dict[str, Any],
        event: dict[str, Any] | None = None,
        document_sha256: str | None = None,
    ) -> Verified:
        return self._verify(receipt, event, document_sha256, _ChainReads(self.registry))

    def verify_many(
        self,
        receipts: Iterable[Receipt | str | bytes | dict[str, Any]],
        events: Sequence[dict[str, Any] | None] | None = None,
        documents: Sequence[str | None] | None = None,
    ) -> list[Verified | VerificationError]:
        """Verify many receipts, reading the chain once per checkpoint they lead to.

        ``events`` and ``documents``, when given, hold for each receipt (same order, ``None``
        for none) what ``verify`` takes as ``event`` and ``document_sha256``. The answer holds,
        in the receipts' order, for each receipt what ``verify`` would answer for it alone: its
        ``Verified``, or the ``VerificationError`` it would raise (one bad receipt fails alone).
        Receipts under one checkpoint (chain, registry, region, size, root, anchor transaction)
        cost one ``log_of``, ``checkpoint_key_at``, ``checkpoint_at`` and ``anchor_tx`` in all,
        and one signature check per distinct note; each receipt then costs its offline checks
        (event digest, inclusion proof) and the comparison of its claims with those answers. A
        chain read that fails fails every receipt that needs it, with the same error.
        """
        receipts = list(receipts)
        for given, what in ((events, "events"), (documents, "documents")):
            if given is not None and len(given) != len(receipts):
                raise ValueError(f"{len(given)} {what} for {len(receipts)} receipts")
        chain = _ChainReads(self.registry)
        results: list[Verified | VerificationError] = []
        for i, receipt in enumerate(receipts):
            try:
                results.append(self._verify(receipt, events[i] if events is not None else None,
                                            documents[i] if documents is not None else None, chain))
            except VerificationError as exc:
                results.append(exc)
        return results

    def _verify(
        self,
        receipt: Receipt | str | bytes | dict[str, Any],
        event: dict[str, Any] | None,
        document_sha256: str | None,
        chain: _ChainReads,
    ) -> Verified:
        if not isinstance(receipt, Receipt):
            receipt = parse_receipt(receipt)
        checkpoint, note, _ = check_offline(receipt, event, document_sha256)
        anchor = receipt.anchor
        assert anchor is not None  # check_offline refused pending receipts
        reg = self.registry
        if anchor.chain_id != reg.chain_id:
            raise AnchorError(f"receipt is anchored on chain {anchor.chain_id}, this node is chain {reg.chain_id}")
        if _checksummed(anchor.registry) != reg.address:
            raise AnchorError(f"receipt names registry {anchor.registry}, verifying against {reg.address}")
        region = int(receipt.log.region)
        log = chain.log_of(region)
        key = chain.checkpoint_key_at(region, checkpoint.size)  # keys rotate: the one of this size
        if not any(key):
            raise AnchorError(f"region {region} has no notary key registered on chain {reg.chain_id}")
        if log.origin != checkpoint.origin or log.hash != receipt.log.hash:
            raise AnchorError(
                f"region {region} is registered as log {log.origin!r} ({log.hash}), "
                f"receipt names {checkpoint.origin!r} ({receipt.log.hash})"
            )
        chain.verify_note(note, log.origin, key)
        on_chain = chain.checkpoint_at(region, checkpoint.size)
        if on_chain is None:
            raise AnchorError(f"nothing anchored for region {region} at tree size {checkpoint.size}")
        if on_chain.root != checkpoint.root:
            raise RootMismatchError(checkpoint.size, checkpoint.root, on_chain.root, "anchored root")
        tx = chain.anchor_tx(anchor.tx_hash)
        if tx is None:
            raise AnchorError(f"transaction {anchor.tx_hash} is not an anchor by registry {reg.address}")
        claimed = (region, checkpoint.size, checkpoint.root, anchor.block_number, anchor.block_time)
        actual = (tx.region, tx.tree_size, tx.root, tx.block_number, tx.block_time)
        if claimed != actual or on_chain.block_number != tx.block_number:
            raise AnchorError(
                f"anchor fields do not match transaction {anchor.tx_hash}: receipt says "
                f"(region, size, block, time) = {claimed[:2] + claimed[3:]}, chain says {actual[:2] + actual[3:]}"
            )
        return Verified(receipt.log.region, receipt.index, checkpoint.size, reg.chain_id, reg.address,
                        anchor.tx_hash, anchor.block_number, anchor.block_time)
