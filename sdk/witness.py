"""What a witness sees of an event: a label and the rule outcome, from its public form alone.

Pure functions over public events, shared by the notary's timeline, the certificate it
signs and ``lianzheng verify --certificate`` (which recomputes the outcomes instead of
trusting the ones printed). Levels: ``warning`` (风险预警: collusion signals, inconsistent
files, a failed section, a voided draw), ``notice`` (a rule refused a step), ``ok`` (a rule
accepted a step), ``info`` (a plain record).

The words live in ``witness.json``, which the witness page reads too; the page's
``witness.js`` repeats the choice of outcome below line for line, and a test runs both over
every event type and requires the same answer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lianzheng.sdk import event_types as et
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.times import utc_iso

TABLE: dict[str, Any] = json.loads((resources.files("lianzheng.sdk") / "witness.json").read_text(encoding="utf-8"))
REASONS: dict[str, tuple[str, str]] = {k: (v[0], v[1]) for k, v in TABLE["reasons"].items()}
# Collusion signals (围标串标), in the contract's order; the creating software is a weak signal.
SIGNALS = tuple((s["code"], s["zh"], s["en"], s["level"]) for s in TABLE["signals"])


@dataclass(frozen=True)
class Outcome:
    level: str  # warning | notice | ok | info
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "text": {"zh": self.zh, "en": self.en}}


def label(event_type: str) -> dict[str, str]:
    base = event_type.removesuffix(et.REJECTED)
    zh, en = et.LABELS.get(base, (base, base))
    if event_type.endswith(et.REJECTED):
        zh, en = (t.replace("{label}", name) for t, name in zip(TABLE["rejected_label"], (zh, en)))
    return {"zh": zh, "en": en}


def text(value: Any, default: str = "?") -> str:
    """A public value as a witness reads it (witness.js ``text`` is the same)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return canonical_json(value).decode()


def _short(value: Any) -> str:
    shown = text(value, "")
    return shown[:10] + "…" if len(shown) > 12 else shown


def _is_int(value: Any) -> bool:
    """An integer as JSON knows it (one number type: 1.5e9 is an integer, true is not)."""
    return type(value) is int or (type(value) is float and value.is_integer())


def _showable(value: Any) -> bool:
    """A Unix time datetime (and a JavaScript Date) can show: years 1970 to 9999."""
    return _is_int(value) and 0 <= value <= 253_402_300_799


def _outcome(code: str, level: str | None = None, **values: str) -> Outcome:
    default, zh, en = TABLE["outcomes"][code.split(":")[0] if code.startswith(("collusion", "rejected")) else code]
    for name, value in values.items():
        zh, en = zh.replace("{" + name + "}", value), en.replace("{" + name + "}", value)
    return Outcome(level or default, code, zh, en)


def outcome(event: dict[str, Any]) -> Outcome:
    """The rule outcome a witness should see for a (public form of an) event."""
    kind = event["type"]
    data = event.get("public") or {}
    if not isinstance(data, dict):
        data = {}
    if kind.endswith(et.REJECTED) and et.is_rule_type(kind.removesuffix(et.REJECTED)):
        reason = text(data.get("reason"), "")
        name = reason.split("(", 1)[0]
        code = f"rejected:{name}" if name else "rejected"
        if name in REASONS:
            zh, en = REASONS[name]
            return Outcome("notice", code, zh, en)
        return _outcome(code, reason=reason)
    if kind == et.FLAG_SHARED_SIGNAL:
        kinds = TABLE["signals"]
        signal = kinds[int(data["kind"])] if _is_int(data.get("kind")) and 0 <= data["kind"] < len(kinds) else \
            TABLE["signal_unknown"]
        out = _outcome("collusion:" + signal["code"], signal["level"], a=_short(data.get("firstPseudonym")),
                       b=_short(data.get("secondPseudonym")))
        return Outcome(out.level, out.code, out.zh.replace("{what}", signal["zh"]),
                       out.en.replace("{what}", signal["en"]))
    if kind == et.FLAG_BID_FILE_INCONSISTENT:
        return _outcome("inconsistent", who=_short(data.get("bidderId")))
    if kind == et.SECTION_FAILED:
        if data.get("reason") in (2, "not_sealed"):
            return _outcome("section_failed:not_sealed")
        return _outcome("section_failed", bids=text(data.get("bids")))
    if kind == et.BOX_SEALED:
        return _outcome("box_sealed", box_size=text(data.get("box_size")))
    if kind == et.BID_OPENED:
        return _outcome("bid_opened")
    if kind == et.BID_UNDECRYPTABLE:
        return _outcome("revoked" if data.get("byBidder") is True else "withdrawn")
    if kind == et.BID_REPLACED:
        return _outcome("replaced", replaced=text(data.get("replaced")), by=text(data.get("by")))
    if kind == et.HOLDER_WITHHELD:
        return _outcome("holder_withheld", who=_short(data.get("holder")))
    if kind == et.OPENING_CLOSED:
        return _outcome("opening_closed", valid_bids=text(data.get("valid_bids")))
    if kind == et.DEADLINE_EXTENDED and _showable(data.get("deadline")):
        return _outcome("deadline_extended", when=utc_iso(int(data["deadline"])), reason=text(data.get("reason"), ""))
    if kind == et.BIDS_REJECTED:
        return _outcome("bids_rejected", decision=text(data.get("decision"), ""))
    if kind == et.DRAW_VOIDED:
        defaulters = data.get("defaulters")
        who = ", ".join(_short(d) for d in defaulters) if isinstance(defaulters, list) else ""
        return _outcome("draw_voided", who=who)
    if kind == et.EXPERTS_DRAWN:
        positions = data.get("positions")
        positions = positions if isinstance(positions, list) else []
        return _outcome("experts_drawn", count=str(len(positions)),
                        positions="[" + ", ".join(text(p) for p in positions) + "]")
    if kind == et.EXPERT_REPLACED:
        return _outcome("expert_replaced", ordinal=text(data.get("ordinal")), reason=text(data.get("reason"), ""))
    if kind == et.SECRET_RECOVERED:
        return _outcome("seed_withheld", who=_short(data.get("party")))
    if kind == et.SECTION_OPENED and _showable(data.get("deadline")):
        return _outcome("section_opened", when=utc_iso(int(data["deadline"])))
    if kind == et.BID_SEALED:
        return _outcome("bid_in_time")
    return _outcome("recorded")
