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

from sdk.verifier import utc_iso

LABELS: dict[str, tuple[str, str]] = {
    "tender.section_opened": ("标段开放投标", "section opened for bids"),
    "tender.bidder_registered": ("投标人登记", "bidder registered"),
    "bid.committed": ("投标承诺上链", "bid commitment recorded"),
    "bid.withdrawn": ("投标撤回", "bid withdrawn"),
    "bid.submitted": ("投标文件递交", "bid file submitted"),
    "tender.opening_started": ("开标", "opening started"),
    "bid.opened": ("投标文件开启", "bid opened"),
    "tender.flag.bid_file_inconsistent": ("投标文件不一致", "bid file inconsistent"),
    "tender.flag.duplicate_bid_file": ("相同投标文件", "identical bid files"),
    "tender.flag.shared_device_fingerprint": ("相同设备特征", "shared device fingerprint"),
    "tender.opening_closed": ("开标结束", "opening closed"),
    "tender.section_proceeded": ("标段有效", "section proceeds"),
    "tender.section_failed": ("标段流标", "section failed"),
    "experts.draw_created": ("专家抽取发起", "expert draw created"),
    "experts.seed_committed": ("随机种子承诺", "seed committed"),
    "experts.seed_revealed": ("随机种子揭示", "seed revealed"),
    "experts.drawn": ("专家抽取完成", "experts drawn"),
    "experts.draw_voided": ("专家抽取作废", "expert draw voided"),
    "experts.expert_replaced": ("专家替补", "expert replaced"),
    "experts.expert_revealed": ("专家身份揭示", "expert revealed"),
    "tender.announced": ("招标公告", "tender announced"),
    "archive.filed": ("归档", "archived"),
}

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
    base = event_type.removesuffix(".rejected")
    zh, en = LABELS.get(base, (base, base))
    if event_type.endswith(".rejected"):
        zh, en = f"{zh}（被规则拒绝）", f"{en} (refused by the rule)"
    return {"zh": zh, "en": en}


def _short(value: Any) -> str:
    text = str(value)
    return text[:10] + "…" if len(text) > 12 else text


def outcome(event: dict[str, Any]) -> Outcome:
    """The rule outcome a witness should see for a (public form of an) event."""
    kind = event["type"]
    data = event.get("public") or {}
    if kind.endswith(".rejected"):
        reason = str(data.get("reason", ""))
        name = reason.split("(", 1)[0]
        zh, en = REASONS.get(name, (f"规则拒绝：{reason}", f"refused by the rule: {reason}"))
        return Outcome("notice", f"rejected:{name}" if name else "rejected", zh, en)
    a, b = _short(data.get("firstBidder", "")), _short(data.get("secondBidder", ""))
    if kind == "tender.flag.duplicate_bid_file":
        return Outcome("warning", "collusion:duplicate_file", f"围标串标预警：投标人 {a} 与 {b} 提交了相同的投标文件",
                       f"collusion warning: bidders {a} and {b} submitted the same bid file")
    if kind == "tender.flag.shared_device_fingerprint":
        return Outcome("warning", "collusion:shared_device", f"围标串标预警：投标人 {a} 与 {b} 使用同一设备制作投标文件",
                       f"collusion warning: bidders {a} and {b} prepared their bids on the same device")
    if kind == "tender.flag.bid_file_inconsistent":
        who = _short(data.get("bidderId", ""))
        return Outcome("warning", "inconsistent", f"投标人 {who} 开启的文件与截止前承诺不一致：投标无效",
                       f"bidder {who}: the opened file differs from its commitment: bid invalid")
    if kind == "tender.section_failed":
        n = data.get("validBids", "?")
        return Outcome("warning", "section_failed", f"有效投标仅 {n} 个，不足三个：流标（招标投标法第二十八条）",
                       f"only {n} valid bids, fewer than three: the section failed (Tendering Law Art. 28)")
    if kind == "tender.section_proceeded":
        n = data.get("validBids", "?")
        return Outcome("ok", "section_proceeded", f"有效投标 {n} 个：标段继续", f"{n} valid bids: the section proceeds")
    if kind == "experts.draw_voided":
        who = ", ".join(_short(d) for d in data.get("defaulters", []))
        return Outcome("warning", "draw_voided", f"专家抽取作废：未按时提交种子的一方 {who}",
                       f"expert draw voided: party that did not act in time {who}")
    if kind == "experts.drawn":
        positions = data.get("positions", [])
        return Outcome("ok", "experts_drawn", f"已抽取 {len(positions)} 名专家（序号 {positions}）",
                       f"{len(positions)} experts drawn (positions {positions})")
    if kind == "experts.expert_replaced":
        return Outcome("notice", "expert_replaced", f"第 {data.get('ordinal')} 位专家替补：{data.get('reason', '')}",
                       f"expert #{data.get('ordinal')} replaced: {data.get('reason', '')}")
    if kind == "tender.section_opened" and isinstance(data.get("deadline"), int):
        when = utc_iso(data["deadline"])
        return Outcome("info", "section_opened", f"投标截止时间 {when}", f"bid deadline {when}")
    if kind == "bid.committed":
        return Outcome("ok", "bid_in_time", "截止前投标，已受理", "bid before the deadline: accepted")
    return Outcome("info", "recorded", "已记录", "recorded")
