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
    if kind == et.FLAG_SHARED_SIGNAL:
        return _shared_signal(data)
    if kind == et.FLAG_BID_FILE_INCONSISTENT:
        who = _short(data.get("bidderId", ""))
        return Outcome("warning", "inconsistent", f"投标人 {who} 开启的文件与截止前承诺不一致：投标无效",
                       f"bidder {who}: the opened file differs from its commitment: bid invalid")
    if kind == et.SECTION_FAILED:
        if data.get("reason") in (2, "not_sealed"):
            return Outcome("warning", "section_failed:not_sealed", "截止后未按时封存投标文件：标段失败",
                           "the bids were not sealed in time after the deadline: the section failed")
        n = data.get("bids", "?")
        return Outcome("warning", "section_failed", f"截止时投标人仅 {n} 个，少于3个：不得开标，应重新招标（实施条例第四十四条）",
                       f"only {n} bidders at the deadline, fewer than three: no opening, tender again (Reg. Art. 44)")
    if kind == et.BOX_SEALED:
        n = data.get("box_size", "?")
        return Outcome("info", "box_sealed", f"投标截止：封存投标文件 {n} 份", f"deadline: {n} bids sealed")
    if kind == et.BID_OPENED:
        return Outcome("ok", "bid_opened", "投标文件解密，与截止前承诺一致", "bid decrypted: it matches its commitment")
    if kind == et.BID_UNDECRYPTABLE:
        if data.get("byBidder"):
            return Outcome("notice", "revoked", "投标文件因投标人原因未能解密：视为撤销（电子招标投标办法第三十一条）",
                           "bid not decrypted through the bidder's fault: revoked (E-bidding Measures Art. 31)")
        return Outcome("warning", "withdrawn", "投标文件因他人原因未能解密：视为撤回，投标人可索赔（电子招标投标办法第三十一条）",
                       "bid not decrypted through others' fault: withdrawn, the bidder may claim (Art. 31)")
    if kind == et.BID_REPLACED:
        return Outcome("info", "replaced", f"第 {data.get('replaced')} 号投标被同一投标人截止前的第 {data.get('by')} 号投标替换"
                       "（招标投标法第二十九条）",
                       f"entry {data.get('replaced')} replaced by the same bidder's entry {data.get('by')} (Art. 29)")
    if kind == et.HOLDER_WITHHELD:
        who = _short(data.get("holder", ""))
        return Outcome("warning", "holder_withheld", f"密钥持有方 {who} 未释放解密份额", f"key holder {who} withheld its shares")
    if kind == et.OPENING_CLOSED:
        n = data.get("valid_bids", "?")
        return Outcome("ok", "opening_closed", f"开标结束：有效投标 {n} 个", f"opening closed: {n} valid bids")
    if kind == et.DEADLINE_EXTENDED and isinstance(data.get("deadline"), int):
        when = utc_iso(data["deadline"])
        return Outcome("notice", "deadline_extended", f"投标截止时间延长至 {when}：{data.get('reason', '')}",
                       f"bid deadline extended to {when}: {data.get('reason', '')}")
    if kind == et.BIDS_REJECTED:
        return Outcome("notice", "bids_rejected", f"评标委员会否决所有投标：{data.get('decision', '')}",
                       f"the evaluation committee rejected all bids: {data.get('decision', '')}")
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
    if kind == et.SECRET_RECOVERED:
        who = _short(str(data.get("party", "")))
        return Outcome("warning", "seed_withheld", f"{who} 扣留随机种子，已由其他各方的份额恢复，抽取结果不变",
                       f"{who} withheld its seed; recovered from the other parties' shares, the draw is unchanged")
    if kind == et.SECTION_OPENED and isinstance(data.get("deadline"), int):
        when = utc_iso(data["deadline"])
        return Outcome("info", "section_opened", f"投标截止时间 {when}", f"bid deadline {when}")
    if kind == et.BID_SEALED:
        return Outcome("ok", "bid_in_time", "截止前投标，已封存", "bid received before the deadline, sealed")
    return Outcome("info", "recorded", "已记录", "recorded")


# Collusion signals (围标串标), in the contract's order; the creating software is a weak signal.
SIGNALS = (("duplicate_file", "提交了相同的投标文件", "submitted the same bid file", "warning"),
           ("same_author", "投标文件作者相同", "have the same document author", "warning"),
           ("same_software", "投标文件制作软件标识相同", "made their files with the same software id", "notice"),
           ("same_machine", "投标文件记录的机器码相同", "files record the same machine code", "warning"),
           ("shared_device", "使用同一设备递交投标文件", "submitted from the same device", "warning"),
           ("shared_lock", "使用同一CA锁", "used the same CA lock", "warning"))


def _shared_signal(data: dict[str, Any]) -> Outcome:
    kind = data.get("kind")
    code, zh, en, level = SIGNALS[kind] if isinstance(kind, int) and 0 <= kind < len(SIGNALS) else (
        "signal", "投标特征相同", "share a signal", "warning")
    a, b = _short(data.get("firstPseudonym", "")), _short(data.get("secondPseudonym", ""))
    return Outcome(level, f"collusion:{code}", f"围标串标预警：投标人 {a} 与 {b} {zh}",
                   f"collusion warning: bidders {a} and {b} {en}")
