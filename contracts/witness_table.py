"""What a witness needs to check a rule event against the chain, from the contract build.

Written by ``python -m lianzheng.contracts.build`` to ``sdk/rules.json`` (the SDK ships it; the
witness page reads it too), checked against the sources by ``tests/contracts/test_artifacts.py``:

- ``contracts``: the rule contracts' runtime code, SHA-256 with the immutable ranges zeroed (any
  deployment of our audited code is recognised, nothing else);
- ``events``: the contract events a witness reads (topic, inputs, the id that indexes them, the
  event type the rules engine notarizes them as);
- ``steps``: per step type, the contract functions that take it (selector; whether the first
  argument is the section or draw id); ``step_logs``: the event a step emits and which of its
  public values that event states; ``untransacted`` and ``registry_steps``.
"""
from __future__ import annotations

import hashlib
from typing import Any

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from lianzheng.sdk import event_types as et

RULE_CONTRACTS = ("TenderRules", "ExpertDraw")
KEYS = {"sectionId": "section_id", "drawId": "draw_id"}  # a contract event's first indexed id → public field
# The contract functions whose transaction each rule step is (rules/tender/sections.py, rules/experts/draw.py):
# a step event counts only if its transaction called one of these ("<type>.rejected": a reverted call).
STEPS: dict[str, tuple[str, ...]] = {
    et.BIDDER_REGISTERED: ("registerBidder",), et.BIDDER_KEY_ROTATED: ("rotateBidderKey",),
    et.BIDDER_REVOKED: ("revokeBidder",), et.SECTION_OPENED: ("openSection",),
    et.DEADLINE_EXTENDED: ("extendDeadline",), et.BOX_SEALED: ("sealBox",), et.SECTION_FAILED: ("failUnsealed",),
    et.SHARES_RELEASED: ("releaseShares", "releaseSharesFor"), et.BID_OPENED: ("openBid",),
    et.BID_SETTLED: ("markUndecryptable",), et.OPENING_CLOSED: ("closeOpening", "expireOpening"),
    et.COMMITTEE_SET: ("setCommittee",), et.BIDS_REJECTED: ("rejectAllBids",),
    et.DRAW_PLANNED: ("createDraw",), et.POOL_COMMITTED: ("commitPool",), et.SEED_COMMITTED: ("commitSeed",),
    et.SHARES_DISPUTED: ("complain",), et.SHARES_ACKNOWLEDGED: ("acknowledgeShares",),
    et.SEED_REVEALED: ("revealSeed",), et.SHARE_PUBLISHED: ("publishShare",), et.DRAW_VOIDED: ("voidDraw",),
    et.EXPERT_REPLACED: ("replaceExpert",),
}
# The contract event each step emits, and which of the step's public values it states (public → event
# argument): a step's values are shown only when the chain's event holds them; a text the contract only
# hashes (SHA-256) is checked against its hash (public text → public hash).
STEP_LOGS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    et.SECTION_OPENED: ("SectionOpened", {"deadline": "deadline"}, {}),
    et.DEADLINE_EXTENDED: ("DeadlineExtended", {"deadline": "deadline", "reason_hash": "reasonHash"},
                           {"reason": "reason_hash"}),
    et.BOX_SEALED: ("BoxSealed", {"box_size": "size", "box_root": "root"}, {}),
    et.OPENING_CLOSED: ("OpeningClosed", {"valid_bids": "valid", "bids": "bids"}, {}),
    et.COMMITTEE_SET: ("CommitteeSet", {"members": "members"}, {}),
    et.BIDS_REJECTED: ("AllBidsRejected", {"decision_hash": "decisionHash"}, {"decision": "decision_hash"}),
    et.DRAW_VOIDED: ("DrawVoided", {"defaulters": "defaulters"}, {}),
    et.EXPERT_REPLACED: ("ExpertReplaced", {"stratum": "stratum", "ordinal": "ordinal"}, {}),
}
# Rule types the rules engine records without a transaction of their own (shown, never counted).
UNTRANSACTED = (et.BID_SEALED, et.EXPERT_REVEALED)


def _code_fingerprint(artifact: Any, name: str) -> dict[str, Any]:
    art = artifact(name)
    code = bytearray(bytes.fromhex(art["deployedBytecode"][2:]))
    for start, length in art["immutables"]:
        code[start:start + length] = bytes(length)
    return {"code_sha256": hashlib.sha256(code).hexdigest(), "immutables": art["immutables"], "size": len(code)}


def _abi_event(contract: str, item: dict[str, Any], kind: str | None, notarized: bool) -> dict[str, Any]:
    indexed = [i["name"] for i in item["inputs"] if i["indexed"]]
    return {"contract": contract, "type": kind, "notarized": notarized,
            "topic": "0x" + event_abi_to_log_topic(item).hex(),
            "inputs": [{"name": i["name"], "type": i["type"], "indexed": i["indexed"]} for i in item["inputs"]],
            "key": KEYS.get(indexed[0]) if indexed else None}


def _contract_events(artifact: Any) -> dict[str, Any]:
    """The rule contracts' events a witness reads: those the rules engine notarizes as events of their
    own, those a step emits (STEP_LOGS), and DrawCreated (to find every draw of a section)."""
    wanted = {name: (kind, True) for name, kind in et.CONTRACT_EVENTS.items()}
    for kind, (name, _, _) in STEP_LOGS.items():
        wanted.setdefault(name, (kind, False))
    wanted["DrawCreated"] = (None, False)
    events: dict[str, Any] = {}
    for contract in RULE_CONTRACTS:
        for item in artifact(contract)["abi"]:
            if item["type"] == "event" and item["name"] in wanted:
                events[item["name"]] = _abi_event(contract, item, *wanted[item["name"]])
    missing = set(wanted) - set(events)
    if missing:
        raise RuntimeError(f"contract events without an ABI: {sorted(missing)}")
    return events


def _steps(artifact: Any) -> dict[str, list[dict[str, Any]]]:
    """Per step type, the functions that take it: selector, and whether the first argument is the
    subject (section or draw id), which a refused step is then checked against."""
    functions: dict[str, dict[str, Any]] = {}
    for contract in RULE_CONTRACTS:
        for item in artifact(contract)["abi"]:
            if item["type"] == "function":
                first = item["inputs"][0] if item["inputs"] else {}
                functions[item["name"]] = {"selector": "0x" + function_abi_to_4byte_selector(item).hex(),
                                           "subject_arg": first.get("type") == "bytes32" and
                                           first.get("name") in KEYS}
    missing = {f for names in STEPS.values() for f in names} - set(functions)
    if missing:
        raise RuntimeError(f"rule steps name functions no rule contract has: {sorted(missing)}")
    return {step: [functions[f] for f in names] for step, names in STEPS.items()}


def rules_table(artifact: Any) -> dict[str, Any]:
    """The table, from ``artifact(name)`` (the build's fresh artifacts, or the committed ones)."""
    return {
        "contracts": {name: _code_fingerprint(artifact, name) for name in RULE_CONTRACTS},
        "events": _contract_events(artifact), "steps": _steps(artifact),
        "step_logs": {kind: {"event": name, "fields": fields, "hashed": hashed}
                      for kind, (name, fields, hashed) in STEP_LOGS.items()},
        "untransacted": list(UNTRANSACTED),
        "registry_steps": [et.BIDDER_REGISTERED, et.BIDDER_KEY_ROTATED, et.BIDDER_REVOKED],
    }
