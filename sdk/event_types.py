"""Event types the rules engine writes, and only it.

A rule outcome (a collusion flag, a failed section, a drawn committee) is evidence only if
the rules engine wrote it after the rule contract decided. The notary therefore reserves
these types to the rules engine's identity (its in-process writer and keys of role
``rules``): any other writer key gets 403, so it cannot plant a collusion warning in
someone's section. Refused steps are logged as ``<type>.rejected``, reserved alike.
"""
from __future__ import annotations

RULES_ENGINE = "rules-engine"  # the writer name of the notary's in-process rules engine

RULE_TYPES = frozenset({
    "tender.section_opened", "tender.bidder_registered", "tender.opening_started", "tender.opening_closed",
    "tender.section_failed", "tender.section_proceeded",
    "bid.committed", "bid.withdrawn", "bid.opened",
})
RULE_PREFIXES = ("tender.flag.", "experts.")
REJECTED = ".rejected"


def is_rule_type(event_type: str) -> bool:
    """Whether ``event_type`` (or its ``.rejected`` form) is written by the rules engine alone."""
    base = event_type.removesuffix(REJECTED)
    return base in RULE_TYPES or base.startswith(RULE_PREFIXES)
