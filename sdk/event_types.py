"""Event types: one definition, read by the rules engine that writes them, the notary that
reserves them, and the witness views that label them.

A rule outcome (a collusion flag, a failed section, a drawn committee) is evidence only if
the rules engine wrote it after the rule contract decided. The notary therefore reserves
the rule types to the rules engine's identity (its in-process writer and keys of role
``rules``): any other writer key gets 403, so it cannot plant a collusion warning in
someone's section. A refused step is logged as ``<type>.rejected``, reserved alike.
"""
from __future__ import annotations

import json
from importlib import resources

RULES_ENGINE = "rules-engine"  # the writer name of the notary's in-process rules engine
REJECTED = ".rejected"

# --- written by the rules engine (tender rules) -------------------------------------------
SECTION_OPENED = "tender.section_opened"
BIDDER_REGISTERED = "tender.bidder_registered"
BID_OPENED = "bid.opened"
FLAG_BID_FILE_INCONSISTENT = "tender.flag.bid_file_inconsistent"
OPENING_CLOSED = "tender.opening_closed"
SECTION_FAILED = "tender.section_failed"
BIDDER_KEY_ROTATED = "tender.bidder_key_rotated"
BIDDER_REVOKED = "tender.bidder_revoked"
DEADLINE_EXTENDED = "tender.deadline_extended"
BOX_SEALED = "tender.box_sealed"
BID_SEALED = "bid.sealed"
SHARES_RELEASED = "tender.shares_released"
BID_UNDECRYPTABLE = "bid.undecryptable"
BID_SETTLED = "bid.settled"
BID_REPLACED = "bid.replaced"
FLAG_SHARED_SIGNAL = "tender.flag.shared_signal"
HOLDER_WITHHELD = "tender.holder_withheld"
COMMITTEE_SET = "tender.committee_set"
BIDS_REJECTED = "tender.bids_rejected"
# --- written by the rules engine (expert draw) --------------------------------------------
REGISTRY_ANCHORED = "experts.registry_anchored"
DRAW_PLANNED = "experts.draw_planned"
POOL_COMMITTED = "experts.pool_committed"
SEED_COMMITTED = "experts.seed_committed"
SHARES_ACKNOWLEDGED = "experts.shares_acknowledged"
SHARES_DISPUTED = "experts.shares_disputed"
SEED_REVEALED = "experts.seed_revealed"
SHARE_PUBLISHED = "experts.share_published"
SECRET_RECOVERED = "experts.secret_recovered"
EXPERTS_DRAWN = "experts.drawn"
DRAW_VOIDED = "experts.draw_voided"
EXPERT_REPLACED = "experts.expert_replaced"
EXPERT_REVEALED = "experts.expert_revealed"
# --- written by trading systems -----------------------------------------------------------
TENDER_ANNOUNCED = "tender.announced"
BID_SUBMITTED = "bid.submitted"
ARCHIVE_FILED = "archive.filed"
EVALUATION_REPORTED = "tender.evaluation_reported"  # public.received_at (optional)
CANDIDATES_PUBLISHED = "tender.candidates_published"  # public.from, public.until: the publicity period
RESULT_ANNOUNCED = "tender.result_announced"  # public.announced_at (optional)
AWARD_NOTIFIED = "tender.award_notified"  # public.notified_at (optional)
CONTRACT_SIGNED = "contract.signed"  # public.signed_at (optional)
TRADING_TYPES = frozenset({TENDER_ANNOUNCED, BID_SUBMITTED, ARCHIVE_FILED, EVALUATION_REPORTED, CANDIDATES_PUBLISHED,
                           RESULT_ANNOUNCED, AWARD_NOTIFIED, CONTRACT_SIGNED})

# Each type with what a witness is told it is (zh, en): from witness.json, which the page reads too.
LABELS: dict[str, tuple[str, str]] = {
    k: (v[0], v[1]) for k, v in json.loads(
        (resources.files("lianzheng.sdk") / "witness.json").read_text(encoding="utf-8"))["labels"].items()}
RULE_TYPES = frozenset(LABELS) - TRADING_TYPES

# Events of the rule contracts that the rules engine notarizes as events of their own.
CONTRACT_EVENTS: dict[str, str] = {
    "BidFileInconsistent": FLAG_BID_FILE_INCONSISTENT,
    "SectionFailed": SECTION_FAILED,
    "SharedSignal": FLAG_SHARED_SIGNAL,
    "HolderWithheld": HOLDER_WITHHELD,
    "BidUndecryptable": BID_UNDECRYPTABLE,
    "BidReplaced": BID_REPLACED,
    "StratumDrawn": EXPERTS_DRAWN,
    "SecretRecovered": SECRET_RECOVERED,
}


def is_rule_type(event_type: str) -> bool:
    """Whether ``event_type`` is written by the rules engine alone: the rule types, every type under
    ``tender.flag.`` and ``experts.`` (named here or not yet), and every refusal ``<type>.rejected``
    (a trading system must not brand a step as refused by a rule)."""
    base = event_type.removesuffix(REJECTED)
    return base != event_type or base in RULE_TYPES or base.startswith(("tender.flag.", "experts."))
