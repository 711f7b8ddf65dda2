"""Witness views of a project or section: the timeline and the signed certificate evidence.

Both show public forms only (hashes, public fields, rule outcomes): they are served to
anyone. The certificate evidence is signed with the notary's checkpoint key.
"""
from __future__ import annotations

import bisect
import json
import time
from typing import Any, Callable, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lianzheng.notary.errors import Ambiguous, BadRange, NotAnchored, NotFound
from lianzheng.notary.models import AnchorIntent, Entry
from lianzheng.notary.services.log import NotaryLog
from lianzheng.sdk.certificate import CERT_FORMAT, compliance_of, signed_body
from lianzheng.sdk.checkpoint import sign_note
from lianzheng.sdk.event import public_form
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.witness import label, outcome

MAX_EVENTS = 1000  # per timeline or certificate


class WitnessStore(Protocol):
    """The store's reads a witness view needs."""

    def projects_with_section(self, section: str, limit: int = 20) -> list[str]: ...

    def entries_of_section(self, project: str, section: str | None, limit: int) -> list[Entry]: ...

    def anchors(self) -> list[AnchorIntent]: ...

    def latest_anchor(self, status: str | None = None) -> AnchorIntent | None: ...


class Witness:
    """Timelines and signed certificate evidence of projects and sections."""

    def __init__(self, log: NotaryLog, store: WitnessStore, signing_key: Callable[[], Ed25519PrivateKey]) -> None:
        self.log, self.store, self.signing_key = log, store, signing_key

    def resolve_project(self, section: str, project: str | None) -> str:
        return resolve_project(self.store, section, project)

    def timeline(self, project: str, section: str | None) -> dict[str, Any]:
        return timeline(self.log, self.store, project, section)

    def certificate_evidence(self, project: str, section: str, verify_url: str) -> dict[str, Any]:
        return certificate_evidence(self.log, self.store, self.signing_key(), project, section, verify_url)


def resolve_project(store: WitnessStore, section: str, project: str | None) -> str:
    """The project of ``section`` when the caller did not say (409 when several have it)."""
    if project:
        return project
    projects = store.projects_with_section(section)
    if not projects:
        raise NotFound(f"no event names section {section!r}")
    if len(projects) > 1:
        raise Ambiguous(f"section {section!r} exists in several projects: give ?project=", projects=projects)
    return projects[0]


def _entries(store: WitnessStore, project: str, section: str | None) -> list[Entry]:
    entries = store.entries_of_section(project, section, MAX_EVENTS + 1)
    if not entries:
        where = f"project {project!r}" + (f" section {section!r}" if section else "")
        raise NotFound(f"no event of {where}")
    if len(entries) > MAX_EVENTS:
        raise BadRange(f"more than {MAX_EVENTS} events: ask for one section at a time", limit=MAX_EVENTS)
    return entries


class _Anchors:
    """Confirmed anchors, to find the one covering each index without a query per event."""

    def __init__(self, store: WitnessStore) -> None:
        self.rows: list[AnchorIntent] = [a for a in store.anchors() if a.status == "confirmed"]
        self.sizes = [a.tree_size for a in self.rows]

    def covering(self, index: int) -> AnchorIntent | None:
        i = bisect.bisect_right(self.sizes, index)
        return self.rows[i] if i < len(self.rows) else None


def timeline(log: NotaryLog, store: WitnessStore, project: str, section: str | None) -> dict[str, Any]:
    size = len(log)  # read before the entries: every entry below this size is in the answer
    anchors = _Anchors(store)
    events = []
    for entry in _entries(store, project, section):
        shown = public_form(json.loads(entry.event_json), log.hasher)
        anchor = anchors.covering(entry.idx)
        events.append({
            "event_id": entry.event_id, "index": entry.idx, "type": shown["type"], "label": label(shown["type"]),
            "section": shown.get("section"), "occurred_at": shown["occurred_at"], "actor": shown["actor"],
            "public": shown.get("public"), "documents": shown.get("documents", []),
            "event_digest": entry.digest.hex(), "outcome": outcome(shown).as_dict(),
            "anchor": None if anchor is None else anchor.as_anchor().model_dump(),
        })
    # log_size: the notary states the list holds every event of the section among its first log_size entries
    return {"project": project, "section": section, "region": log.region, "events": events,
            "warnings": sum(e["outcome"]["level"] == "warning" for e in events), "log_size": size}


def certificate_evidence(log: NotaryLog, store: WitnessStore, key: Ed25519PrivateKey, project: str, section: str,
                         verify_url: str) -> dict[str, Any]:
    """The signed evidence of a section; 409 while any of its events waits for its anchor."""
    latest = store.latest_anchor("confirmed")  # read before the entries: the list is complete up to it
    entries = _entries(store, project, section)
    receipts = [log.receipt(e.event_id).public() for e in entries]
    pending = [r.event_id for r in receipts if r.status != "anchored"]
    if pending:
        raise NotAnchored(f"{len(pending)} events of the section are not anchored yet; retry after the next anchor",
                          pending=pending[:20])
    anchor = receipts[-1].anchor
    evidence: dict[str, Any] = {
        "format": CERT_FORMAT, "issued_at": utc_iso(int(time.time())),
        "log": log.info.model_dump(), "chain": {"chain_id": anchor.chain_id, "registry": anchor.registry},
        "project": project, "section": section, "tree_size": len(log),
        "complete_through": {"tree_size": latest.tree_size, "root": latest.root.hex()},
        "receipts": [r.model_dump(mode="json") for r in receipts],
        "outcomes": [{"event_id": r.event_id, **{k: v for k, v in outcome(r.event).as_dict().items()
                                                 if k in ("level", "code")}} for r in receipts],
        "verify_url": verify_url,
    }
    evidence["compliance"] = compliance_of(evidence["receipts"])
    evidence["signature"] = sign_note(signed_body(evidence), log.origin, key)
    return evidence
