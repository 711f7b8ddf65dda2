"""Electronic witness certificates (电子见证证书): signed evidence of one section, in a PDF.

The PDF shows the evidence; what verifies is the JSON embedded in it as the file
attachment ``lianzheng-evidence.json``::

    {format, issued_at, log{origin, region, hash}, chain{chain_id, registry}, project, section,
     tree_size, complete_through{tree_size, root}, receipts[public receipts, anchored, in log order],
     outcomes[{event_id, level, code}], compliance{trading_type, elements[...]}, verify_url, signature}

``complete_through`` is the anchored checkpoint up to which the notary states the receipts are
*every* event of the section: its events link one to the next from the first (``prev``, see
``sdk.event``), so none can be left out before the last one shown, and the notary signs that
none follows below that size. ``compliance`` is the witness-element catalogue (``sdk.compliance``)
decided from the receipts' events: a verifier recomputes it, as it recomputes the outcomes.

``signature`` is a C2SP signed note by the notary's checkpoint key (the one registered on
chain for the region) over ``lianzheng-certificate/1\\n<origin>\\n<sha256 of JCS(evidence
without signature)>\\n`` — a body that can never parse as a checkpoint. Verifying needs the
PDF and read access to the chain: the signature against the registered key, every receipt
against the anchored roots, and the outcomes recomputed from the events themselves. With no
chain, ``verify_certificate_offline`` checks every receipt by its alliance cosignatures instead
and says plainly that the notary's signature (whose key is on chain) was not checked.
"""
from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lianzheng.sdk import event_types as et
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.checkpoint import SignedNote
from lianzheng.sdk.cosign import AllianceMembers, verify_offline
from lianzheng.sdk.errors import EventMismatchError, MalformedError, SignatureError, first_invalid
from lianzheng.sdk.event import GENESIS
from lianzheng.sdk.receipt import LogInfo, Receipt, parse_receipt
from lianzheng.sdk.registry import RegistryView
from lianzheng.sdk.verifier import Verifier
from lianzheng.sdk.witness import outcome

CERT_FORMAT = "lianzheng-certificate/1"
ATTACHMENT = "lianzheng-evidence.json"
MAX_PDF_BYTES = 64 * 1024 * 1024


def evidence_digest(evidence: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical evidence without its signature: printed on the certificate."""
    try:
        canonical = canonical_json({k: v for k, v in evidence.items() if k != "signature"})
    except rfc8785.CanonicalizationError as exc:
        raise MalformedError(f"certificate evidence has no canonical form (RFC 8785): {exc}") from exc
    return hashlib.sha256(canonical).hexdigest()


def signed_body(evidence: dict[str, Any]) -> str:
    return f"{CERT_FORMAT}\n{evidence['log']['origin']}\n{evidence_digest(evidence)}\n"


def extract_evidence(pdf: bytes) -> dict[str, Any]:
    """The evidence JSON embedded in a certificate PDF; ``MalformedError`` when there is none."""
    import orjson
    from pypdf import PdfReader

    if len(pdf) > MAX_PDF_BYTES:
        raise MalformedError(f"certificate is larger than {MAX_PDF_BYTES // (1024 * 1024)} MiB")
    if not pdf.startswith(b"%PDF-"):
        raise MalformedError("not a PDF file")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files are our error
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        blobs = attachments.get(ATTACHMENT)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for damaged files
        raise MalformedError(f"the PDF cannot be read: {exc}") from exc
    if not blobs:
        raise MalformedError(f"the PDF carries no {ATTACHMENT}: not a Lianzheng witness certificate")
    if len(blobs) != 1:
        raise MalformedError(f"the PDF carries {len(blobs)} files named {ATTACHMENT}")
    try:
        evidence = orjson.loads(blobs[0])
    except orjson.JSONDecodeError as exc:
        raise MalformedError(f"the embedded evidence is not JSON: {exc}") from exc
    if not isinstance(evidence, dict) or evidence.get("format") != CERT_FORMAT:
        raise MalformedError(f"the embedded evidence is not {CERT_FORMAT}")
    return evidence


@dataclass
class CertificateCheck:
    project: str
    section: str | None
    region: str
    digest: str
    events: list[tuple[dict[str, Any], Any]] = field(default_factory=list)  # Verified, or CosignedVerified offline
    warnings: list[str] = field(default_factory=list)
    complete_through: int | None = None

    def summary(self) -> str:
        where = f"project {self.project}" + (f" section {self.section}" if self.section else "")
        last = max((v.block_number for _, v in self.events), default=0)
        complete = f", complete through log size {self.complete_through}" if self.complete_through else ""
        return (f"verified certificate: {where}, region {self.region}, {len(self.events)} events anchored "
                f"up to block {last}{complete}, {len(self.warnings)} warnings; evidence sha256 {self.digest}")


class _Head(BaseModel):
    """The fields a check relies on, validated before any of them is used."""

    model_config = ConfigDict(extra="allow", strict=True)
    log: LogInfo
    project: str = Field(min_length=1)
    section: str | None = None
    tree_size: int = Field(ge=0)
    receipts: list[dict[str, Any]]
    outcomes: list[Any]
    signature: str
    complete_through: dict[str, Any] | None = None
    compliance: dict[str, Any] | None = None


def _head(evidence: Any) -> _Head:
    if not isinstance(evidence, dict):
        raise MalformedError("certificate evidence is not a JSON object")
    try:
        head = _Head.model_validate(evidence)
    except ValidationError as exc:
        raise first_invalid(exc, "certificate evidence", "evidence") from exc
    if len(head.receipts) != len(head.outcomes):
        raise MalformedError("certificate evidence must list one outcome per receipt")
    return head


def _verify_signature(note: SignedNote, origin: str, registry: RegistryView, region: int, tree_size: int) -> None:
    """The notary signed the certificate when its log had ``tree_size`` entries: with the key of
    the checkpoint at that size, or with the one that signs the next checkpoint (a key rotated
    right at that size). Any other key, an older one in particular, is refused."""
    current, following = (registry.checkpoint_key_at(region, s) for s in (tree_size, tree_size + 1))
    try:
        note.verify(origin, current)
    except SignatureError:
        if following == current:
            raise
        note.verify(origin, following)


def verify_certificate(evidence: dict[str, Any], registry: RegistryView) -> CertificateCheck:
    """Check a certificate's evidence against one chain; ``VerificationError`` says what broke."""
    head = _head(evidence)
    origin, region = head.log.origin, head.log.region
    note = _signed_note(head, evidence)
    log = registry.log_of(int(region))
    if log.origin != origin:
        raise SignatureError(f"region {region} is registered as log {log.origin!r}, the certificate names {origin!r}")
    _verify_signature(note, origin, registry, int(region), head.tree_size)
    through = head.complete_through
    if through is not None:  # the checkpoint it is complete through is one the chain holds
        anchored = registry.checkpoint_at(int(region), through.get("tree_size")) if isinstance(
            through.get("tree_size"), int) else None
        if anchored is None or anchored.root.hex() != through.get("root"):
            raise EventMismatchError(f"the certificate says it is complete through checkpoint "
                                     f"{through.get('tree_size')}, which is not anchored with that root")
    check = CertificateCheck(head.project, head.section, region, evidence_digest(evidence))
    _check_receipts(head, check, Verifier(registry).verify)
    _check_rules(head, registry)
    return check


def _check_rules(head: _Head, registry: RegistryView) -> None:
    """Rule events count only when the chain backs them, and the certificate leaves none of the
    section's out (``sdk.rule_check``; needs a registry read over JSON-RPC)."""
    from lianzheng.sdk.rule_check import RuleChecker, RuleUnbacked

    reader = getattr(registry, "chain", None)
    if reader is None:
        return
    checker = RuleChecker(reader, registry)
    events = [r["event"] for r in head.receipts]
    for event in events:
        if et.is_rule_type(event["type"]):
            checker.check(event)
    sections = [head.section] if head.section else sorted({e["section"] for e in events if e.get("section")})
    missing = checker.missing_logs(int(head.log.region), head.project, sections, events)
    if missing:
        name, tx = missing[0]
        raise RuleUnbacked(f"the rule contract emitted {name} about the section in {tx}, which the certificate "
                           f"leaves out ({len(missing)} such events)", missing=[m[1] for m in missing])


def verify_certificate_offline(evidence: dict[str, Any], members: AllianceMembers) -> OfflineCertificateCheck:
    """Check a certificate's evidence with no chain: every receipt by k-of-n alliance cosignatures
    (``sdk.cosign``), outcomes recomputed from the events. The notary's signature over the evidence
    is NOT checked (its key is registered on chain): what it adds, that these are all the section's
    events up to ``tree_size``, is then the notary's word alone, and the summary says so."""
    head = _head(evidence)
    _signed_note(head, evidence)
    check = OfflineCertificateCheck(head.project, head.section, head.log.region, evidence_digest(evidence))
    return _check_receipts(head, check, lambda receipt: verify_offline(receipt, members))


@dataclass
class OfflineCertificateCheck(CertificateCheck):
    def summary(self) -> str:
        where = f"project {self.project}" + (f" section {self.section}" if self.section else "")
        signers = sorted({s for _, v in self.events for s in v.signers})
        return (f"verified certificate offline: {where}, region {self.region}, {len(self.events)} events, each "
                f"cosigned by alliance members ({', '.join(signers)}), {len(self.warnings)} warnings; evidence sha256 "
                f"{self.digest}; not checked offline: the notary's signature over the certificate (its key is on "
                f"chain), so that these are all the section's events is the notary's word alone (verify with --rpc "
                f"for that), and the anchors' blocks and times")


def _signed_note(head: _Head, evidence: dict[str, Any]) -> SignedNote:
    note = SignedNote.parse(head.signature)
    if note.body != signed_body(evidence):
        raise SignatureError("the evidence was changed after the notary signed it (its digest differs from the "
                             "signed one)", digest=evidence_digest(evidence))
    return note


def trading_type_of(events: list[dict[str, Any]]) -> str:
    """The catalogue a section is judged by: its profile (stated on chain when it opened) when the
    catalogue has one of that name, else ``engineering`` (the Bidding Law's default)."""
    from lianzheng.sdk.compliance import trading_types

    for event in events:
        if event.get("type") == et.SECTION_OPENED:
            profile = (event.get("public") or {}).get("profile")
            if profile in trading_types():
                return str(profile)
    return "engineering"


def compliance_of(receipts: list[dict[str, Any]], trading_type: str | None = None) -> dict[str, Any]:
    """The witness elements of a section, decided from its (verified) receipts' events."""
    from lianzheng.sdk.compliance import evaluate

    events = [r["event"] for r in receipts]
    kind = trading_type or trading_type_of(events)
    times = [int(r["anchor"]["block_time"]) for r in receipts] if all(r.get("anchor") for r in receipts) else None
    return {"trading_type": kind, "elements": [e.as_dict() for e in evaluate(kind, events, times)]}


def check_chain(receipts: list[Receipt]) -> None:
    """The receipts (one section, log order) link one to the next from the section's first event."""
    previous = GENESIS
    for receipt in receipts:
        prev = receipt.event.get("prev")
        if prev is None:
            raise EventMismatchError(f"event {receipt.event_id} carries no link to its section's previous event: "
                                     "completeness cannot be checked")
        if prev != previous:
            what = "the section's first events are" if previous == GENESIS else "an event before it is"
            raise EventMismatchError(f"incomplete: {what} missing (event {receipt.event_id} links to {prev[:16]}…)",
                                     event_id=receipt.event_id)
        previous = receipt.event_digest


def _check_completeness(head: _Head, receipts: list[Receipt]) -> None:
    sections: dict[Any, list[Receipt]] = {}
    for receipt in receipts:  # a project's certificate: each of its sections (and its own events) a chain
        sections.setdefault(receipt.event.get("section"), []).append(receipt)
    for chain in sections.values():
        check_chain(chain)
    through = head.complete_through
    if through is not None:
        size = through.get("tree_size")
        if not isinstance(size, int) or size > head.tree_size or any(r.index >= size for r in receipts):
            raise MalformedError("complete_through must be a size of the log that covers every receipt")


def _check_compliance(head: _Head) -> None:
    if head.compliance is None:
        return
    stated = head.compliance
    kind = stated.get("trading_type")
    events = [r["event"] for r in head.receipts]
    natural = trading_type_of(events)
    if kind != natural and natural != "engineering":
        raise EventMismatchError(f"the section opened under profile {natural}; the certificate judges it as {kind}")
    if stated != compliance_of(head.receipts, kind):
        raise EventMismatchError("the procedural compliance the certificate states is not what its events show")


def _check_receipts(head: _Head, check: CertificateCheck, verify_one: Callable[[Receipt], Any]) -> CertificateCheck:
    """Every receipt verified by ``verify_one``, in log order, of this project (and section), with
    the outcome the evidence states recomputed from its event."""
    project, section, last = head.project, head.section, -1
    for raw, said in zip(head.receipts, head.outcomes):
        receipt = parse_receipt(raw)
        event = receipt.event
        if event.get("project") != project or (section is not None and event.get("section") != section):
            raise EventMismatchError(f"event {receipt.event_id} is not of {project}/{section}")
        if receipt.index <= last:
            raise MalformedError("certificate receipts are not in log order")
        last = receipt.index
        verified = verify_one(receipt)
        found = outcome(event)
        if not isinstance(said, dict) or (said.get("event_id"), said.get("level"), said.get("code")) != (
                receipt.event_id, found.level, found.code):
            raise EventMismatchError(f"the outcome stated for {receipt.event_id} is not what its event shows "
                                     f"({found.level} {found.code})")
        check.events.append((event, verified))
        if found.level == "warning":
            check.warnings.append(f"{receipt.event_id}: {found.en}")
    _check_completeness(head, [parse_receipt(raw) for raw in head.receipts])
    _check_compliance(head)
    if head.complete_through is not None:
        check.complete_through = head.complete_through.get("tree_size")
    return check
