"""Electronic witness certificates (电子见证证书): signed evidence of one section, in a PDF.

The PDF shows the evidence; what verifies is the JSON embedded in it as the file
attachment ``lianzheng-evidence.json``::

    {format, issued_at, log{origin, region, hash}, chain{chain_id, registry}, project, section,
     tree_size, receipts[public receipts, anchored, in log order], outcomes[{event_id, level, code}],
     verify_url, signature}

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

from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.checkpoint import SignedNote
from lianzheng.sdk.cosign import AllianceMembers, verify_offline
from lianzheng.sdk.errors import EventMismatchError, MalformedError, SignatureError
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

    def summary(self) -> str:
        where = f"project {self.project}" + (f" section {self.section}" if self.section else "")
        last = max((v.block_number for _, v in self.events), default=0)
        return (f"verified certificate: {where}, region {self.region}, {len(self.events)} events anchored "
                f"up to block {last}, {len(self.warnings)} warnings; evidence sha256 {self.digest}")


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


def _head(evidence: Any) -> _Head:
    if not isinstance(evidence, dict):
        raise MalformedError("certificate evidence is not a JSON object")
    try:
        head = _Head.model_validate(evidence)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "evidence"
        raise MalformedError(f"certificate evidence: {where}: {first['msg']}", field=where) from exc
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
    check = CertificateCheck(head.project, head.section, region, evidence_digest(evidence))
    return _check_receipts(head, check, Verifier(registry).verify)


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
    return check
