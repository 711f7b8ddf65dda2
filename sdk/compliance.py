"""Procedural compliance in the certificate: the 见证要素目录 (witness-element catalogue) and a pure
evaluator over the public forms of one section's events.

``compliance.json`` (shipped with the SDK) lists, per trading type, the elements a certificate
reports (at least 20 days to the deadline, opening at the deadline, three bidders, the
committee, result publicity, the contract within 30 days), each with its legal source and the
check that decides it. ``evaluate`` decides each element from events the caller has already
verified against the chain: ``met``, ``not_met``, or ``missing`` when the log does not hold
what the element needs. Nothing is ever ``met`` without the events that show it.

Days are counted as the Civil Code counts them (Art. 201, 203): calendar days in Beijing time,
the starting day not counted, the last day ending at 24:00 (``day_counting`` in the JSON).
No I/O beyond reading the packaged catalogue, no chain, no clock: the same events give the
same elements, so a verifier recomputes what a certificate printed.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

from lianzheng.sdk import event_types as et
from lianzheng.sdk.errors import MalformedError

# Written by trading systems (the shared table names and labels them: sdk/event_types.py, witness.json).
EVALUATION_REPORTED, CANDIDATES_PUBLISHED, RESULT_ANNOUNCED = (et.EVALUATION_REPORTED, et.CANDIDATES_PUBLISHED,
                                                               et.RESULT_ANNOUNCED)
AWARD_NOTIFIED, CONTRACT_SIGNED = et.AWARD_NOTIFIED, et.CONTRACT_SIGNED

MET, NOT_MET, MISSING = "met", "not_met", "missing"
FEWER_THAN_MIN_BIDDERS = 1  # TenderRules.FailReason
NOT_SEALED = 2
MIN_BIDDERS = 3  # 招标投标法 Art. 28; 实施条例 Art. 44; 政府采购法 Art. 36
# A claimed time the chain anchored this much later is shown as the trading system's statement.
ANCHOR_SLACK = timedelta(days=1)


@cache
def catalogue() -> dict[str, Any]:
    """The packaged catalogue (``lianzheng/sdk/compliance.json``)."""
    return json.loads((resources.files("lianzheng.sdk") / "compliance.json").read_text(encoding="utf-8"))


def trading_types() -> tuple[str, ...]:
    return tuple(catalogue()["trading_types"])


def _beijing() -> timezone:
    return timezone(timedelta(hours=catalogue()["day_counting"]["utc_offset_hours"]))


@dataclass(frozen=True)
class Element:
    """One witness element of a section, decided from its public events."""

    id: str
    zh: str
    en: str
    status: str  # met | not_met | missing
    detail_zh: str
    detail_en: str
    sources: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": {"zh": self.zh, "en": self.en}, "status": self.status,
                "detail": {"zh": self.detail_zh, "en": self.detail_en},
                "sources": [{k: s[k] for k in ("law", "article", "zh", "verified") if k in s} for s in self.sources]}


Verdict = tuple[str, str, str]  # status, detail_zh, detail_en


# --- times -------------------------------------------------------------------------------


def _instant(value: Any) -> datetime | None:
    """An RFC 3339 string with an offset, or Unix seconds, as an aware datetime; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _last_day(end: datetime) -> date:
    """The calendar day an end instant closes: 00:00 closes the day before (it is that day's 24:00)."""
    local = end.astimezone(_beijing())
    return local.date() - timedelta(days=1) if local.time() == time(0) else local.date()


def days_between(start: datetime, end: datetime) -> int:
    """Days of a period from ``start`` to ``end`` as the law counts them (Civil Code Art. 201, 203)."""
    return (_last_day(end) - start.astimezone(_beijing()).date()).days


def _show(moment: datetime) -> str:
    return moment.astimezone(_beijing()).strftime("%Y-%m-%d %H:%M UTC+8")


# --- the log -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    event: dict[str, Any]
    anchor_time: int | None

    @property
    def public(self) -> dict[str, Any]:
        data = self.event.get("public")
        return data if isinstance(data, dict) else {}

    def time(self, override: str | None = None) -> datetime | None:
        """When it happened: ``public[override]`` when given and valid, else ``occurred_at``."""
        stated = _instant(self.public.get(override)) if override else None
        return stated or _instant(self.event.get("occurred_at"))


class _Log:
    """A section's accepted events by type, in log order (refused steps count for nothing)."""

    def __init__(self, events: list[dict[str, Any]], anchor_times: list[int] | None) -> None:
        self._by_type: dict[str, list[_Entry]] = {}
        for i, event in enumerate(events):
            if event.get("type", "").endswith(et.REJECTED) or (event.get("public") or {}).get("status") == "rejected":
                continue
            entry = _Entry(event, anchor_times[i] if anchor_times is not None else None)
            self._by_type.setdefault(event["type"], []).append(entry)

    def all(self, kind: str) -> list[_Entry]:
        return self._by_type.get(kind, [])

    def first(self, kind: str) -> _Entry | None:
        return next(iter(self.all(kind)), None)

    def last(self, kind: str) -> _Entry | None:
        return self.all(kind)[-1] if self.all(kind) else None


def label(kind: str) -> tuple[str, str]:
    """(zh, en) of an event type, from the shared label table."""
    return et.LABELS.get(kind, (kind, kind))


def _missing(kind: str) -> Verdict:
    zh, en = label(kind)
    return MISSING, f"日志中没有「{zh}」（{kind}）事件", f"no '{en}' ({kind}) event in the log"


def _anchored(entry: _Entry, claimed: datetime) -> tuple[str, str]:
    """A note when the chain anchored an event well after the time it states: the time is then the
    trading system's statement, proven only from the anchor on."""
    if entry.anchor_time is None:
        return "", ""
    anchored = datetime.fromtimestamp(entry.anchor_time, UTC)
    if anchored - claimed <= ANCHOR_SLACK:
        return "", ""
    return (f"（注意：该事件 {_show(anchored)} 才锚定上链，所述时间为交易系统的陈述）",
            f" (note: anchored only at {_show(anchored)}; the time stated is the trading system's)")


def _deadline(log: _Log) -> tuple[datetime | None, str, str]:
    """The bid deadline: the section's, replaced by the last extension."""
    opened = log.first(et.SECTION_OPENED)
    if opened is None:
        return None, "", ""
    deadline = _instant(opened.public.get("deadline"))
    extended = log.last(et.DEADLINE_EXTENDED)
    if extended is not None and _instant(extended.public.get("deadline")) is not None and deadline is not None:
        original = deadline
        deadline = _instant(extended.public.get("deadline"))
        return deadline, f"（原截止 {_show(original)}，已延长）", f" (originally {_show(original)}, extended)"
    return deadline, "", ""


# --- the checks (named by the catalogue's "check") ---------------------------------------


def _announcement_period(log: _Log, p: dict[str, Any]) -> Verdict:
    announced = log.first(et.TENDER_ANNOUNCED)
    if announced is None:
        return _missing(et.TENDER_ANNOUNCED)
    if log.first(et.SECTION_OPENED) is None:
        return _missing(et.SECTION_OPENED)
    issued = announced.time("documents_issued_at")
    deadline, ext_zh, ext_en = _deadline(log)
    if issued is None or deadline is None:
        return (MISSING, "招标文件发出时间或投标截止时间不可读",
                "the documents' issue time or the bid deadline is unreadable")
    days, need = days_between(issued, deadline), p["min_days"]
    note_zh, note_en = _anchored(announced, issued)
    zh = f"招标文件发出 {_show(issued)} 至投标截止 {_show(deadline)}{ext_zh}：" \
         f"{days} 日 {'≥' if days >= need else '<'} {need} 日"
    en = f"documents issued {_show(issued)} to bid deadline {_show(deadline)}{ext_en}: {days} days " \
         f"{'≥' if days >= need else '<'} {need} days"
    return (MET if days >= need else NOT_MET), zh + note_zh, en + note_en


def _failed_for_fewer(entry: _Entry | None, min_bidders: int) -> bool:
    if entry is None:
        return False
    data = entry.public
    bids = data.get("bids")
    return data.get("reason") in (FEWER_THAN_MIN_BIDDERS, "fewer_than_min_bidders") or (
        isinstance(bids, int) and not isinstance(bids, bool) and bids < min_bidders)


def _opening_on_time(log: _Log, p: dict[str, Any]) -> Verdict:
    opened_section = log.first(et.SECTION_OPENED)
    if opened_section is None:
        return _missing(et.SECTION_OPENED)
    deadline, ext_zh, ext_en = _deadline(log)
    if deadline is None:
        return MISSING, "投标截止时间不可读", "the bid deadline is unreadable"
    first = log.first(et.BID_OPENED)
    failed = log.first(et.SECTION_FAILED)
    if first is None:
        if failed is not None and failed.public.get("reason") in (NOT_SEALED, "not_sealed"):
            return (NOT_MET, f"截止 {_show(deadline)} 后未按时封存投标文件，未能开标，标段失败",
                    f"the bids were not sealed in time after the deadline {_show(deadline)}: "
                    f"no opening, the section failed")
        sealed = log.first(et.BOX_SEALED)
        size = sealed.public.get("box_size") if sealed is not None else None
        if failed is not None and (_failed_for_fewer(failed, MIN_BIDDERS)
                                   or isinstance(size, int) and size < MIN_BIDDERS):
            return (MET, f"投标人不足3个，依法不开标（截止 {_show(deadline)}，标段流标）",
                    f"fewer than three bidders: lawfully no opening (deadline {_show(deadline)}, section failed)")
        return _missing(et.BID_OPENED)
    at = first.time()
    if at is None:
        return MISSING, "开启时间不可读", "the opening time is unreadable"
    profile = opened_section.public.get("profile")
    grace = p["grace_minutes_by_profile"].get(profile) if isinstance(profile, str) else None
    late = at - deadline
    minutes = late.total_seconds() / 60
    head_zh = f"投标截止 {_show(deadline)}{ext_zh}，首次开启 {_show(at)}"
    head_en = f"bid deadline {_show(deadline)}{ext_en}, first opening {_show(at)}"
    if late < timedelta(0):
        return NOT_MET, f"{head_zh}：早于截止时间", f"{head_en}: before the deadline"
    if grace is None:
        return (MET, f"{head_zh}：不早于截止（交易类型 {profile!r} 的开标宽限未知，未核对上限）",
                f"{head_en}: not before the deadline (no opening grace known for profile {profile!r}: "
                f"no upper bound checked)")
    if minutes > grace:
        return NOT_MET, f"{head_zh}：迟 {minutes:.0f} 分钟 > 宽限 {grace} 分钟", \
            f"{head_en}: {minutes:.0f} min late > {grace} min grace"
    return MET, f"{head_zh}：截止后 {minutes:.0f} 分钟 ≤ 宽限 {grace} 分钟", \
        f"{head_en}: {minutes:.0f} min after the deadline ≤ {grace} min grace"


def _at_least_three_bidders(log: _Log, p: dict[str, Any]) -> Verdict:
    need = p["min_bidders"]
    sealed, failed, opened = log.first(et.BOX_SEALED), log.first(et.SECTION_FAILED), log.first(et.BID_OPENED)
    size = sealed.public.get("box_size") if sealed is not None else None
    if not isinstance(size, int) or isinstance(size, bool):
        size = failed.public.get("bids") if failed is not None and _failed_for_fewer(failed, need) else None
    if not isinstance(size, int) or isinstance(size, bool):
        if failed is not None and failed.public.get("reason") in (NOT_SEALED, "not_sealed"):
            return (MISSING, "投标文件未按时封存，投标人数量未公开",
                    "the bids were not sealed in time: their number is not public")
        return _missing(et.BOX_SEALED)
    if size >= need:
        closed = log.last(et.OPENING_CLOSED)
        valid = closed.public.get("valid_bids") if closed is not None else None
        after_zh = f"；开标结束，有效投标 {valid} 个" if isinstance(valid, int) else ""
        after_en = f"; opening closed with {valid} valid bids" if isinstance(valid, int) else ""
        if isinstance(valid, int) and valid < need and failed is not None:
            after_zh, after_en = after_zh + "，不足3个，标段失败", after_en + ", fewer than three: the section failed"
        return MET, f"截止时封存投标 {size} 份 ≥ {need}：可以开标{after_zh}", \
            f"{size} bids sealed at the deadline ≥ {need}: opening allowed{after_en}"
    if opened is not None:
        return NOT_MET, f"投标仅 {size} 份 < {need}，却已开标", f"only {size} bids < {need}, yet bids were opened"
    if failed is not None:
        return (MET, f"投标仅 {size} 份 < {need}：依法不开标，标段流标，应重新招标",
                f"only {size} bids < {need}: lawfully no opening; the section failed and is to be tendered again")
    return MISSING, f"投标仅 {size} 份 < {need}，但日志中没有标段流标事件", \
        f"only {size} bids < {need}, but no section-failed event in the log"


def _draws(log: _Log) -> tuple[str | None, dict[str, list[_Entry]]]:
    """The draw that made the committee (the last one with experts drawn, else the last planned),
    and that draw's events by type."""
    def of(entry: _Entry) -> str | None:
        return entry.public.get("draw_id") if isinstance(entry.public.get("draw_id"), str) else None

    kinds = (et.DRAW_PLANNED, et.POOL_COMMITTED, et.EXPERTS_DRAWN, et.EXPERT_REPLACED, et.DRAW_VOIDED)
    drawn = [of(e) for e in log.all(et.EXPERTS_DRAWN) if of(e)]
    planned = [of(e) for e in log.all(et.DRAW_PLANNED) if of(e)]
    chosen = drawn[-1] if drawn else planned[-1] if planned else None
    return chosen, {k: [e for e in log.all(k) if of(e) == chosen] for k in kinds}


def _plan_size(plan: _Entry) -> tuple[int, int] | None:
    """(members, experts) of a draw plan: drawn experts plus the tenderer's representatives."""
    reps, strata = plan.public.get("tenderer_reps"), plan.public.get("strata")
    if not isinstance(reps, int) or not isinstance(strata, list):
        return None
    quotas = [s.get("quota") for s in strata if isinstance(s, dict)]
    if len(quotas) != len(strata) or not all(isinstance(q, int) for q in quotas):
        return None
    return reps + sum(quotas), sum(quotas)


def _committee_composition(log: _Log, p: dict[str, Any]) -> Verdict:
    draw_id, draw = _draws(log)
    plan = draw[et.DRAW_PLANNED][-1] if draw_id and draw[et.DRAW_PLANNED] else None
    committee = log.last(et.COMMITTEE_SET)
    members = committee.public.get("members") if committee is not None else None
    if plan is None and not isinstance(members, list):
        return _missing(et.DRAW_PLANNED)
    if plan is not None and not draw[et.EXPERTS_DRAWN]:
        return MISSING, f"专家抽取 {draw_id[:10]}… 已发起但日志中没有抽取完成事件", \
            f"expert draw {draw_id[:10]}… planned, but no experts-drawn event in the log"
    profile = plan.public.get("profile") if plan is not None else None
    need = p["min_members_by_profile"].get(profile, p["min_members"]) if isinstance(profile, str) else p["min_members"]
    num, den = p["experts_min_share"]
    checks: list[tuple[bool, str, str]] = []
    zh, en = [], []
    size = _plan_size(plan) if plan is not None else None
    if plan is not None and size is None:
        return MISSING, "专家抽取方案的人数不可读", "the draw plan's committee size is unreadable"
    if size is not None:
        total, experts = size
        zh.append(f"抽取方案：{total} 人（专家 {experts} + 招标人代表 {total - experts}）")
        en.append(f"draw plan: {total} members ({experts} experts + {total - experts} tenderer's representatives)")
        checks += [(total >= need, f"{total} ≥ {need} 人", f"{total} ≥ {need}"),
                   (not p["odd"] or total % 2 == 1, f"{total} 为单数", f"{total} is odd"),
                   (experts * den >= total * num, f"专家 {experts}/{total} ≥ {num}/{den}",
                    f"experts {experts}/{total} ≥ {num}/{den}")]
    if isinstance(members, list):
        n = len(members)
        zh.append(f"评标委员会确定：{n} 人")
        en.append(f"committee set: {n} members")
        checks += [(n >= need, f"委员会 {n} ≥ {need} 人", f"committee {n} ≥ {need}"),
                   (not p["odd"] or n % 2 == 1, f"委员会 {n} 为单数", f"committee {n} is odd")]
        if size is None:
            zh.append("无抽取方案，专家比例无法核对")
            en.append("no draw plan: the experts' share cannot be checked")
    ok = all(c[0] for c in checks)
    verdict_zh = "；".join(("✓ " if c[0] else "✗ 不满足 ") + c[1] for c in checks)
    verdict_en = "; ".join(("✓ " if c[0] else "✗ fails: ") + c[2] for c in checks)
    return (MET if ok else NOT_MET), "；".join(zh) + "：" + verdict_zh, "; ".join(en) + ": " + verdict_en


def _committee_avoidance(log: _Log, p: dict[str, Any]) -> Verdict:
    draw_id, draw = _draws(log)
    if draw_id is None:
        return _missing(et.DRAW_PLANNED)
    short = draw_id[:10] + "…"
    if not draw[et.EXPERTS_DRAWN]:
        voided = "（已作废）" if draw[et.DRAW_VOIDED] else ""
        return MISSING, f"专家抽取 {short}{voided} 未完成：日志中没有抽取完成事件", \
            f"expert draw {short}{' (voided)' if voided else ''} not completed: no experts-drawn event in the log"
    if not draw[et.DRAW_PLANNED]:
        return _missing(et.DRAW_PLANNED)
    strata = draw[et.DRAW_PLANNED][-1].public.get("strata")
    count = len(strata) if isinstance(strata, list) else 0
    pools = {e.public.get("stratum"): e.public for e in draw[et.POOL_COMMITTED] if e.public.get("exclusion_hash")}
    if count == 0 or len(pools) < count:
        return MISSING, f"专家抽取 {short}：{count} 个分层中仅 {len(pools)} 个有回避名单承诺", \
            f"expert draw {short}: only {len(pools)} of {count} strata have a committed exclusion list"
    excluded = sum(v.get("excluded", 0) for v in pools.values() if isinstance(v.get("excluded"), int))
    conflicts = sum(1 for e in draw[et.EXPERT_REPLACED] if e.public.get("reason") == "conflict")
    more_zh = f"；抽取后发现回避事由而更换 {conflicts} 人" if conflicts else ""
    more_en = f"; {conflicts} replaced after an avoidance ground was found" if conflicts else ""
    return (MET, (f"专家抽取 {short}：回避条件随抽取方案上链承诺（planHash），{count} 个分层的抽取池均附回避名单哈希"
                  f"（共排除 {excluded} 人），随机抽取完成{more_zh}"),
            (f"expert draw {short}: avoidance inputs committed with the plan (planHash), each of {count} strata pooled "
             f"with its exclusion-list hash ({excluded} excluded), drawn at random{more_en}"))


def _result_publicity(log: _Log, p: dict[str, Any]) -> Verdict:
    published = log.first(CANDIDATES_PUBLISHED)
    if published is None:
        return _missing(CANDIDATES_PUBLISHED)
    start, end = published.time("from"), _instant(published.public.get("until"))
    if start is None or end is None:
        return (MISSING, "公示事件缺少可读的 public.from / public.until",
                "the publicity event lacks a readable public.from / public.until")
    days, need = days_between(start, end), p["min_days"]
    ok = days >= need and end > start
    zh = [f"公示 {_show(start)} 至 {_show(end)}：{days} 日 {'≥' if ok else '<'} {need} 日"]
    en = [f"published {_show(start)} to {_show(end)}: {days} days {'≥' if ok else '<'} {need} days"]
    report = log.first(EVALUATION_REPORTED)
    if report is not None and report.time("received_at") is not None:
        received, limit = report.time("received_at"), p["within_days_of_report"]
        lag = days_between(received, start)
        ok = ok and 0 <= lag <= limit
        zh.append(f"收到评标报告 {_show(received)} 后 {lag} 日公示 {'≤' if 0 <= lag <= limit else '>'} {limit} 日")
        en.append(f"published {lag} days after the evaluation report of {_show(received)} "
                  f"{'≤' if 0 <= lag <= limit else '>'} {limit} days")
    else:
        zh.append("日志中无评标报告事件，3日内公示的要求未核对")
        en.append("no evaluation-report event in the log: the 3-day publication limit was not checked")
    note_zh, note_en = _anchored(published, start)
    return (MET if ok else NOT_MET), "；".join(zh) + note_zh, "; ".join(en) + note_en


def _result_announcement(log: _Log, p: dict[str, Any]) -> Verdict:
    announced, notified = log.first(RESULT_ANNOUNCED), log.first(AWARD_NOTIFIED)
    if announced is None:
        return _missing(RESULT_ANNOUNCED)
    if notified is None:
        return _missing(AWARD_NOTIFIED)
    at, sent = announced.time("announced_at"), notified.time("notified_at")
    if at is None or sent is None:
        return MISSING, "公告或通知时间不可读", "the announcement or notice time is unreadable"
    note_zh, note_en = _anchored(announced, at)
    return (MET, (f"中标结果公告 {_show(at)}，中标通知书发出 {_show(sent)}"
                  f"（2个工作日的时限需节假日安排，未计算）{note_zh}"),
            (f"result announced {_show(at)}, award notice issued {_show(sent)} (the 2-working-day limit needs the "
             f"holiday calendar and is not computed){note_en}"))


def _contract_within_days(log: _Log, p: dict[str, Any]) -> Verdict:
    notified, signed = log.first(AWARD_NOTIFIED), log.first(CONTRACT_SIGNED)
    if notified is None:
        return _missing(AWARD_NOTIFIED)
    if signed is None:
        return _missing(CONTRACT_SIGNED)
    sent, at = notified.time("notified_at"), signed.time("signed_at")
    if sent is None or at is None:
        return MISSING, "通知或签订时间不可读", "the notice or signing time is unreadable"
    days, limit = days_between(sent, at), p["max_days"]
    note_zh, note_en = _anchored(signed, at)
    head_zh = f"中标通知书 {_show(sent)}，合同签订 {_show(at)}"
    head_en = f"award notice {_show(sent)}, contract signed {_show(at)}"
    if at < sent:
        return NOT_MET, f"{head_zh}：合同早于中标通知书{note_zh}", f"{head_en}: signed before the award notice{note_en}"
    if days > limit:
        return (NOT_MET, (f"{head_zh}：第 {days} 日 > {limit} 日"
                          f"（期满日如为法定休假日可顺延，民法典第二百零三条）{note_zh}"),
                (f"{head_en}: day {days} > {limit} days (a last day on a public holiday moves to the next working day, "
                 f"Civil Code Art. 203){note_en}"))
    return MET, f"{head_zh}：第 {days} 日 ≤ {limit} 日{note_zh}", f"{head_en}: day {days} ≤ {limit} days{note_en}"


CHECKS: dict[str, Callable[[_Log, dict[str, Any]], Verdict]] = {
    "announcement_period": _announcement_period,
    "opening_on_time": _opening_on_time,
    "at_least_three_bidders": _at_least_three_bidders,
    "committee_composition": _committee_composition,
    "committee_avoidance": _committee_avoidance,
    "result_publicity": _result_publicity,
    "result_announcement": _result_announcement,
    "contract_within_days": _contract_within_days,
}


def evaluate(trading_type: str, events: list[dict[str, Any]], anchor_times: list[int] | None = None
             ) -> list[Element]:
    """Each witness element of ``trading_type`` decided from the public forms of one section's
    events, in log order, already verified against the chain (``anchor_times[i]``, when given: the
    block time of the anchor covering ``events[i]``). ``MalformedError`` for an unknown trading
    type or input that is not a list of events."""
    types = catalogue()["trading_types"]
    if trading_type not in types:
        raise MalformedError(f"unknown trading type {trading_type!r}: the catalogue knows {', '.join(types)}",
                             trading_type=trading_type, known=list(types))
    if not isinstance(events, list) or not all(isinstance(e, dict) and isinstance(e.get("type"), str) for e in events):
        raise MalformedError("events must be a list of public event forms, each with a string 'type'")
    if anchor_times is not None and (len(anchor_times) != len(events) or not all(
            isinstance(t, int) and not isinstance(t, bool) for t in anchor_times)):
        raise MalformedError(f"anchor_times must hold one Unix time per event: {len(events)} events, "
                             f"{len(anchor_times)} anchor times", events=len(events), anchor_times=len(anchor_times))
    log = _Log(events, anchor_times)
    out = []
    for spec in types[trading_type]["elements"]:
        status, zh, en = CHECKS[spec["check"]](log, spec.get("params", {}))
        out.append(Element(spec["id"], spec["zh"], spec["en"], status, zh, en, [dict(s) for s in spec["sources"]]))
    return out
