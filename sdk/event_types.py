"""Event types: one definition, read by the rules engine that writes them, the notary that
reserves them, and the witness views that label them.

A rule outcome (a collusion flag, a failed section, a drawn committee) is evidence only if
the rules engine wrote it after the rule contract decided. The notary therefore reserves
the rule types to the rules engine's identity (its in-process writer and keys of role
``rules``): any other writer key gets 403, so it cannot plant a collusion warning in
someone's section. A refused step is logged as ``<type>.rejected``, reserved alike.
"""
from __future__ import annotations

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

# Each type with what a witness is told it is (zh, en).
LABELS: dict[str, tuple[str, str]] = {
    SECTION_OPENED: ("标段开放投标", "section opened for bids"),
    BIDDER_REGISTERED: ("投标人登记", "bidder registered"),
    BID_OPENED: ("投标文件开启", "bid opened"),
    FLAG_BID_FILE_INCONSISTENT: ("投标文件不一致", "bid file inconsistent"),
    OPENING_CLOSED: ("开标结束", "opening closed"),
    SECTION_FAILED: ("标段流标", "section failed"),
    BIDDER_KEY_ROTATED: ("投标人密钥更换", "bidder key rotated"),
    BIDDER_REVOKED: ("投标人注销", "bidder revoked"),
    DEADLINE_EXTENDED: ("投标截止时间延长", "bid deadline extended"),
    BOX_SEALED: ("投标文件封存", "bid box sealed"),
    BID_SEALED: ("投标文件已封存", "bid sealed in the box"),
    SHARES_RELEASED: ("解密密钥份额释放", "key shares released"),
    BID_UNDECRYPTABLE: ("投标文件未能解密", "bid could not be decrypted"),
    BID_SETTLED: ("未解密投标处理", "undecrypted bid settled"),
    BID_REPLACED: ("投标文件被同一投标人修改替换", "bid replaced by the same bidder's later bid"),
    FLAG_SHARED_SIGNAL: ("相同投标特征", "shared collusion signal"),
    HOLDER_WITHHELD: ("密钥持有方未释放份额", "key holder withheld its shares"),
    COMMITTEE_SET: ("评标委员会确定", "evaluation committee set"),
    BIDS_REJECTED: ("评标委员会否决所有投标", "committee rejected all bids"),
    REGISTRY_ANCHORED: ("专家库快照锚定", "expert registry snapshot anchored"),
    DRAW_PLANNED: ("专家抽取发起", "expert draw planned"),
    POOL_COMMITTED: ("专家抽取池承诺", "expert pool committed"),
    SEED_COMMITTED: ("随机种子承诺", "seed committed"),
    SHARES_ACKNOWLEDGED: ("种子份额确认", "seed shares acknowledged"),
    SHARES_DISPUTED: ("种子份额异议", "seed share disputed"),
    SEED_REVEALED: ("随机种子揭示", "seed revealed"),
    SHARE_PUBLISHED: ("种子份额公开", "seed share published"),
    SECRET_RECOVERED: ("扣留的种子被恢复", "withheld seed recovered"),
    EXPERTS_DRAWN: ("专家抽取完成", "experts drawn"),
    DRAW_VOIDED: ("专家抽取作废", "expert draw voided"),
    EXPERT_REPLACED: ("专家替补", "expert replaced"),
    EXPERT_REVEALED: ("专家身份揭示", "expert revealed"),
    TENDER_ANNOUNCED: ("招标公告", "tender announced"),
    BID_SUBMITTED: ("投标文件递交", "bid file submitted"),
    ARCHIVE_FILED: ("归档", "archived"),
}
RULE_TYPES = frozenset(LABELS) - {TENDER_ANNOUNCED, BID_SUBMITTED, ARCHIVE_FILED}

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
    """Whether ``event_type`` (or its ``.rejected`` form) is written by the rules engine alone.

    Every type under ``tender.flag.`` and ``experts.`` is reserved, named here or not yet."""
    base = event_type.removesuffix(REJECTED)
    return base in RULE_TYPES or base.startswith(("tender.flag.", "experts."))
