"""What a witness sees of an event: a label and the rule outcome, from its public form alone.

Pure functions over public events, shared by the notary's timeline, the certificate it
signs and ``lianzheng verify --certificate`` (which recomputes the outcomes instead of
trusting the ones printed). Levels: ``warning`` (风险预警: collusion signals, inconsistent
files, a failed section, a voided draw), ``notice`` (a rule refused a step), ``ok`` (a rule
accepted a step), ``info`` (a plain record).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lianzheng.sdk import event_types as et
from lianzheng.sdk.times import utc_iso

REASONS: dict[str, tuple[str, str]] = {
    "BidDeadlinePassed": ("已过投标截止时间，投标被拒绝", "the bid deadline had passed: bid refused"),
    "ExpertDrawSeedMismatch": ("揭示的种子与承诺不符，被拒绝", "revealed seed does not match its commitment: refused"),
}


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
        zh, en = f"{zh}（被规则拒绝）", f"{en} (refused by the rule)"
    return {"zh": zh, "en": en}


def _short(value: Any) -> str:
    text = str(value)
    return text[:10] + "…" if len(text) > 12 else text


def outcome(event: dict[str, Any]) -> Outcome:
    """The rule outcome a witness should see for a (public form of an) event."""
    kind = event["type"]
    data = event.get("public") or {}
    if kind.endswith(et.REJECTED):
        reason = str(data.get("reason", ""))
        name = reason.split("(", 1)[0]
        zh, en = REASONS.get(name, (f"规则拒绝：{reason}", f"refused by the rule: {reason}"))
        return Outcome("notice", f"rejected:{name}" if name else "rejected", zh, en)
    a, b = _short(data.get("firstBidder", "")), _short(data.get("secondBidder", ""))
    if kind == et.FLAG_DUPLICATE_BID_FILE:
        return Outcome("warning", "collusion:duplicate_file", f"围标串标预警：投标人 {a} 与 {b} 提交了相同的投标文件",
                       f"collusion warning: bidders {a} and {b} submitted the same bid file")
    if kind == et.FLAG_SHARED_DEVICE:
        return Outcome("warning", "collusion:shared_device", f"围标串标预警：投标人 {a} 与 {b} 使用同一设备制作投标文件",
                       f"collusion warning: bidders {a} and {b} prepared their bids on the same device")
    if kind == et.FLAG_BID_FILE_INCONSISTENT:
        who = _short(data.get("bidderId", ""))
        return Outcome("warning", "inconsistent", f"投标人 {who} 开启的文件与截止前承诺不一致：投标无效",
                       f"bidder {who}: the opened file differs from its commitment: bid invalid")
    if kind == et.SECTION_FAILED:
        n = data.get("validBids", "?")
        return Outcome("warning", "section_failed", f"有效投标仅 {n} 个，不足三个：流标（招标投标法第二十八条）",
                       f"only {n} valid bids, fewer than three: the section failed (Tendering Law Art. 28)")
    if kind == et.SECTION_PROCEEDED:
        n = data.get("validBids", "?")
        return Outcome("ok", "section_proceeded", f"有效投标 {n} 个：标段继续", f"{n} valid bids: the section proceeds")
    if kind == et.DRAW_VOIDED:
        who = ", ".join(_short(d) for d in data.get("defaulters", []))
        return Outcome("warning", "draw_voided", f"专家抽取作废：未按时提交种子的一方 {who}",
                       f"expert draw voided: party that did not act in time {who}")
    if kind == et.EXPERTS_DRAWN:
        positions = data.get("positions", [])
        return Outcome("ok", "experts_drawn", f"已抽取 {len(positions)} 名专家（序号 {positions}）",
                       f"{len(positions)} experts drawn (positions {positions})")
    if kind == et.EXPERT_REPLACED:
        return Outcome("notice", "expert_replaced", f"第 {data.get('ordinal')} 位专家替补：{data.get('reason', '')}",
                       f"expert #{data.get('ordinal')} replaced: {data.get('reason', '')}")
    if kind == et.SECTION_OPENED and isinstance(data.get("deadline"), int):
        when = utc_iso(data["deadline"])
        return Outcome("info", "section_opened", f"投标截止时间 {when}", f"bid deadline {when}")
    if kind == et.BID_COMMITTED:
        return Outcome("ok", "bid_in_time", "截止前投标，已受理", "bid before the deadline: accepted")
    return Outcome("info", "recorded", "已记录", "recorded")
