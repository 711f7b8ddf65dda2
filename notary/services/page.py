"""The witness page's data and its standalone form.

``table()`` is what the page knows before it reads anything: the words of ``sdk/witness.json``
(labels, outcomes), which types only the rules engine writes, and how to check a rule event
against the chain — the rule contracts' runtime code (SHA-256 with the immutables zeroed, so
any deployment of our audited code is recognised and nothing else), and the contract events
the rules engine notarizes (topic, inputs) with the id that indexes them (section, draw).

``standalone_html()`` is the whole page in one file (scripts, styles and table inline), for
``lianzheng page export``: a witness opens it from ``file://`` or any static host, so the
code that checks a notary is not code that notary served.
"""
from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from lianzheng.contracts import artifact
from lianzheng.sdk import event_types as et
from lianzheng.sdk.witness import TABLE as WORDS

WEB = resources.files("lianzheng.notary") / "web"
RULE_CONTRACTS = ("TenderRules", "ExpertDraw")
KEYS = {"sectionId": "section_id", "drawId": "draw_id"}  # a contract event's first indexed id → public field
# The contract functions whose transaction each rule step is (rules/tender/sections.py, rules/experts/draw.py):
# a step event counts only if its transaction called one of these ("<type>.rejected": a reverted call).
STEPS: dict[str, tuple[str, ...]] = {
    et.BIDDER_REGISTERED: ("registerBidder",), et.BIDDER_KEY_ROTATED: ("rotateBidderKey",),
    et.BIDDER_REVOKED: ("revokeBidder",), et.SECTION_OPENED: ("openSection",), et.DEADLINE_EXTENDED: ("extendDeadline",),
    et.BOX_SEALED: ("sealBox",), et.SECTION_FAILED: ("failUnsealed",),
    et.SHARES_RELEASED: ("releaseShares", "releaseSharesFor"), et.BID_OPENED: ("openBid",),
    et.BID_SETTLED: ("markUndecryptable",), et.OPENING_CLOSED: ("closeOpening", "expireOpening"),
    et.COMMITTEE_SET: ("setCommittee",), et.BIDS_REJECTED: ("rejectAllBids",),
    et.DRAW_PLANNED: ("createDraw",), et.POOL_COMMITTED: ("commitPool",), et.SEED_COMMITTED: ("commitSeed",),
    et.SHARES_DISPUTED: ("complain",), et.SHARES_ACKNOWLEDGED: ("acknowledgeShares",), et.SEED_REVEALED: ("revealSeed",),
    et.SHARE_PUBLISHED: ("publishShare",), et.DRAW_VOIDED: ("voidDraw",), et.EXPERT_REPLACED: ("replaceExpert",),
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
# The page's modules in dependency order (each imports only those before it).
MODULES = ("sha256.js", "sm3.js", "keccak.js", "verify.js", "table.js", "witness.js", "rules.js", "app.js")


def _code_fingerprint(name: str) -> dict[str, Any]:
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


def _contract_events() -> dict[str, Any]:
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


def _steps() -> dict[str, list[dict[str, Any]]]:
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


def table() -> dict[str, Any]:
    return {
        **{k: v for k, v in WORDS.items() if k != "comment"},
        "rule_types": sorted(et.RULE_TYPES), "rule_prefixes": ["tender.flag.", "experts."],
        "contracts": {name: _code_fingerprint(name) for name in RULE_CONTRACTS},
        "events": _contract_events(), "steps": _steps(),
        "step_logs": {kind: {"event": name, "fields": fields, "hashed": hashed}
                      for kind, (name, fields, hashed) in STEP_LOGS.items()},
        "untransacted": list(UNTRANSACTED), "registry_steps": [et.BIDDER_REGISTERED, et.BIDDER_KEY_ROTATED,
                                                               et.BIDDER_REVOKED],
    }


def table_js() -> str:
    return "// Generated by lianzheng.notary.services.page from sdk/witness.json and the contract build.\n" \
           f"export const TABLE = {json.dumps(table(), ensure_ascii=False, sort_keys=True)};\n"


def module_text(name: str) -> str:
    return table_js() if name == "table.js" else (WEB / name).read_text(encoding="utf-8")


_IMPORT = re.compile(r'^import \{[^}]*\} from "\./[a-z0-9_]+\.js";\n', re.MULTILINE)
_EXPORT = re.compile(r"^export (?=(const|function|async function|class) )", re.MULTILINE)


def _inline(script: str) -> str:
    """Script text that cannot end its <script> element early or open an HTML comment in it."""
    return re.sub(r"(?i)</script", "<\\/script", script).replace("<!--", "<\\!--")


def standalone_html(registry: str | None = None, rpc: str | None = None) -> str:
    """The page with its modules inlined as one module script (imports dropped: the modules'
    top-level names do not collide), its style inline, and ``standalone`` set so it asks for a
    notary URL instead of assuming its own origin. ``registry`` and ``rpc``, when given, are fixed
    in the file (the witness's choice travels with it; nothing stored in the browser overrides it)."""
    html = (WEB / "index.html").read_text(encoding="utf-8")
    script = "\n".join(_EXPORT.sub("", _IMPORT.sub("", module_text(m))) for m in MODULES)
    style = (WEB / "style.css").read_text(encoding="utf-8")
    fixed = {k: v for k, v in (("registry", registry), ("rpc", rpc)) if v}
    trust = ("globalThis.LIANZHENG_STANDALONE = true;\n"
             f"globalThis.LIANZHENG_FIXED = Object.freeze({json.dumps(fixed)});\n")
    html = html.replace('<link rel="stylesheet" href="/web/style.css">', f"<style>\n{style}</style>")
    html = html.replace('<script type="module" src="/web/app.js"></script>',
                        '<script type="module">\n' + _inline(trust + script) + "</script>")
    html = html.replace("<html lang=\"zh-CN\">", "<html lang=\"zh-CN\" data-standalone=\"1\">")
    # No server sends this file's headers: its policy travels inside it (inline code only, reads anywhere).
    policy = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
              "connect-src http: https:; base-uri 'none'; form-action 'none'")
    return html.replace('<meta charset="utf-8">',
                        f'<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="{policy}">', 1)
