"""The tender procedure as the law writes it, from Python: the ``TenderRules`` contract's façade.

Every step, accepted or refused, is a transaction, recorded in the rules engine's journal
before it is sent and notarized after (``rules.steps``). What a step publishes is what the
chain shows anyway (ids, hashes, pseudonyms, outcomes); before the deadline nothing about
bids reaches the chain or the log: the sealed box (``rules.tender.box``) holds them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from lianzheng.chain_node import TxOutcome
from lianzheng.chain_node.interface import ChainNode
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.journal import StepJournal
from lianzheng.rules.steps import EventSink, RuleContract
from lianzheng.rules.tender.crypto import HolderKey
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.sdk import event_types as et

SECTION_STATES = ("none", "bidding", "sealed", "evaluation", "failed", "rejected")
FAIL_REASONS = ("none", "fewer_than_min_bidders", "not_sealed")
BID_STATES = ("none", "valid", "inconsistent", "revoked", "withdrawn", "replaced")
DAY = 86_400


def profile_id(name: str) -> bytes:
    return keccak(text=f"lianzheng.profile/{name}")


LEGAL_PROFILES = ("engineering", "government_procurement")


def load_profiles() -> dict[str, dict[str, Any]]:
    """The trading-type profiles (rules/tender/profiles.json), each value with its legal source
    (and ``demo``, not a legal one: set on a contract only when asked for)."""
    data = json.loads((resources.files("lianzheng.rules.tender") / "profiles.json").read_text(encoding="utf-8"))
    return data["profiles"]


@dataclass(frozen=True)
class Profile:
    min_bidding_period: int
    opening_grace: int
    seal_window: int
    min_bidders: int

    @classmethod
    def from_json(cls, p: dict[str, Any]) -> "Profile":
        return cls(p["min_bidding_days"]["value"] * DAY, p["opening_grace_minutes"]["value"] * 60,
                   p["seal_window_minutes"]["value"] * 60, p["min_bidders"]["value"])


@dataclass(frozen=True)
class SectionInfo:
    section_id: bytes
    owner: str
    region: int
    state: str
    fail_reason: str
    profile_id: bytes
    deadline: int
    sealed_at: int
    box_size: int
    box_root: bytes
    threshold: int
    released: int
    settled: int
    valid: int


@dataclass(frozen=True)
class Identity:
    """Who an entry is from and what the bidder signed besides the entry (``TenderRules.Identity``)."""

    bidder_id: bytes
    pseudonym_salt: bytes
    signature: bytes
    shares_hash: bytes
    version: int

    def as_tuple(self) -> tuple:
        return (self.bidder_id, self.pseudonym_salt, self.signature, self.shares_hash, self.version)


@dataclass(frozen=True)
class Opening:
    """What opening an entry reveals (``TenderRules.Opening``)."""

    identity: Identity
    file_key: bytes
    clear_file_hash: bytes
    clear_salt: bytes
    signals: tuple[bytes, ...]

    @property
    def bidder_id(self) -> bytes:
        return self.identity.bidder_id

    def as_tuple(self) -> tuple:
        return (self.identity.as_tuple(), self.file_key, self.clear_file_hash, self.clear_salt, list(self.signals))


@dataclass(frozen=True)
class _Subject:
    key: bytes
    region: int
    project: str
    section: str | None

    def payload(self) -> dict[str, Any]:
        return {"section_id": self.key.hex()} if self.section else {}


def tender_domain(chain_id: int, address: str) -> dict[str, Any]:
    """The EIP-712 domain of a TenderRules contract (bidders, holders and the committee sign under it)."""
    return {"name": "LianzhengTenderRules", "version": "2", "chainId": chain_id,
            "verifyingContract": to_checksum_address(address)}


class TenderSections(RuleContract):
    CONTRACT = "TenderRules"

    def __init__(self, chain: ChainNode, address: str, notary: EventSink | None = None,
                 journal: StepJournal | None = None) -> None:
        super().__init__(chain, address, notary, journal)
        self._subjects: dict[bytes, _Subject] = {}

    @classmethod
    def deploy(cls, chain: ChainNode, admin: LocalAccount, notary: EventSink | None = None,
               journal: StepJournal | None = None, profiles: dict[str, dict[str, Any]] | None = None
               ) -> "TenderSections":
        """Deploy with ``admin`` as the rules admin and set the profiles (default: the legal ones)."""
        rules = cls(chain, chain.deploy(admin, "TenderRules", admin.address), notary, journal)
        known = load_profiles()
        chosen = {n: known[n] for n in LEGAL_PROFILES} if profiles is None else profiles
        for name, p in chosen.items():
            rules.set_profile(admin, name, Profile.from_json(p))
        return rules

    def _subject(self, key: bytes) -> _Subject:
        if key not in self._subjects:
            logs = self.contract.logs("SectionOpened", sectionId=key)
            if not logs:
                raise RuleRejected(f"TenderRulesUnknownSection({key.hex()})")
            a = logs[0].args
            self._subjects[key] = _Subject(key, a["region"], a["project"], a["section"])
        return self._subjects[key]

    def _registry_subject(self, region: int) -> bytes:
        """Bidder registry steps are about the region's registry, not a section."""
        key = keccak(text=f"lianzheng.bidders/{region}")
        self._subjects.setdefault(key, _Subject(key, region, f"bidders-{region}", None))
        return key

    def domain(self) -> dict[str, Any]:
        return tender_domain(self.chain.chain_id, self.address)

    # --- admin and registry -----------------------------------------------------------------

    def grant_centre(self, admin: LocalAccount, region: int, account: str) -> None:
        call = self.contract.tx("grantRole", self.contract.read("centreRole", region), to_checksum_address(account))
        self._transact(admin, call)

    def grant_holder(self, admin: LocalAccount, account: str) -> None:
        """Name ``account`` a key holder (the rules admin's act, never a centre's)."""
        account = to_checksum_address(account)
        role = self.contract.read("KEY_HOLDER_ROLE")
        if self.contract.read("hasRole", role, account):
            return
        self._transact(admin, self.contract.tx("grantRole", role, account))

    def sign_holder_key(self, holder: LocalAccount, key: bytes) -> bytes:
        """A holder's EIP-712 signature registering its X25519 ``key``."""
        types = {"HolderKey": [{"name": "key", "type": "bytes32"}]}
        return bytes(holder.sign_typed_data(self.domain(), types, {"key": key}).signature)

    def set_holder_key(self, relayer: LocalAccount, holder: str, key: bytes, signature: bytes) -> None:
        """Register a holder's X25519 key, relayed with the holder's own signature."""
        call = self.contract.tx("setHolderKeyFor", to_checksum_address(holder), key, signature)
        self._transact(relayer, call)

    def holder_key(self, account: str) -> HolderKey:
        """A holder as the chain knows it: its account and the X25519 key it registered."""
        key = bytes(self.contract.read("holderKeyOf", to_checksum_address(account)))
        if not any(key):
            raise RuleRejected(f"TenderRulesHolderWithoutKey({to_checksum_address(account)})")
        return HolderKey(to_checksum_address(account), key)

    def set_profile(self, admin: LocalAccount, name: str, p: Profile) -> None:
        call = self.contract.tx("setProfile", profile_id(name), p.min_bidding_period, p.opening_grace, p.seal_window,
                                p.min_bidders)
        self._transact(admin, call)

    def register_bidder(self, centre: LocalAccount, region: int, bidder_id: bytes, ca_cert_hash: bytes,
                        key: str) -> TxOutcome:
        call = self.contract.tx("registerBidder", region, bidder_id, ca_cert_hash, to_checksum_address(key))
        return self._send(centre, call, et.BIDDER_REGISTERED, self._registry_subject(region),
                          {"bidder_id": bidder_id, "ca_cert_hash": ca_cert_hash, "key": key})

    def rotate_bidder_key(self, centre: LocalAccount, region: int, bidder_id: bytes, key: str) -> TxOutcome:
        call = self.contract.tx("rotateBidderKey", region, bidder_id, to_checksum_address(key))
        return self._send(centre, call, et.BIDDER_KEY_ROTATED, self._registry_subject(region),
                          {"bidder_id": bidder_id, "key": key})

    def revoke_bidder(self, centre: LocalAccount, region: int, bidder_id: bytes) -> TxOutcome:
        return self._send(centre, self.contract.tx("revokeBidder", region, bidder_id), et.BIDDER_REVOKED,
                          self._registry_subject(region), {"bidder_id": bidder_id})

    # --- the section -------------------------------------------------------------------------

    def section_id(self, region: int, project: str, section: str) -> bytes:
        return bytes(self.contract.read("sectionIdOf", region, project, section))

    def open_section(self, centre: LocalAccount, region: int, project: str, section: str, profile: str,
                     deadline: int, holders: list[HolderKey], threshold: int) -> bytes:
        """Open a section under a profile; ``holders`` hold the bid-file keys, ``threshold`` of them decrypt."""
        section_id = self.section_id(region, project, section)
        self._subjects[section_id] = _Subject(section_id, region, project, section)
        call = self.contract.tx("openSection", region, project, section, profile_id(profile), deadline,
                                [to_checksum_address(h.account) for h in holders], threshold)
        self._send(centre, call, et.SECTION_OPENED, section_id, {
            "profile": profile, "deadline": deadline, "threshold": threshold,
            "holders": [{"account": to_checksum_address(h.account), "x25519": h.public_key.hex()} for h in holders]})
        return section_id

    def notarize_box(self, section_id: bytes, entries: list[BoxEntry], refusals: list[str]) -> None:
        """Publish the sealed box: each entry (pseudonym, hashes, time received: no identity) and
        each submission refused before the deadline, as events of the rules engine."""
        when = self.chain.block_time()
        for index, entry in enumerate(entries):
            self._record(et.BID_SEALED, section_id, self.address, when, {
                "index": index, **entry.to_json(),
                "leaf_hash": hashlib.sha256(b"\x00" + entry.leaf_data()).hexdigest()},
                f"box-{section_id.hex()}-{index}")
        for number, reason in enumerate(refusals):
            self._record(et.BID_SEALED + et.REJECTED, section_id, self.address, when, {"reason": reason},
                         f"box-{section_id.hex()}-refused-{number}")

    def extend_deadline(self, centre: LocalAccount, section_id: bytes, deadline: int, reason: str) -> TxOutcome:
        """Move the deadline later (before it passed), with the reason notarized (Art. 23 clarifications)."""
        reason_hash = hashlib.sha256(reason.encode()).digest()
        return self._send(centre, self.contract.tx("extendDeadline", section_id, deadline, reason_hash),
                          et.DEADLINE_EXTENDED, section_id, {"deadline": deadline, "reason": reason,
                                                              "reason_hash": reason_hash})

    def seal_box(self, centre: LocalAccount, section_id: bytes, size: int, root: bytes) -> str:
        """Seal the box at the deadline; returns the section's state (``failed`` with too few entries)."""
        self._send(centre, self.contract.tx("sealBox", section_id, size, root), et.BOX_SEALED, section_id,
                   {"box_size": size, "box_root": root}, events=("SectionFailed",))
        return self.section(section_id).state

    def fail_unsealed(self, account: LocalAccount, section_id: bytes) -> TxOutcome:
        return self._send(account, self.contract.tx("failUnsealed", section_id), et.SECTION_FAILED, section_id,
                          {"reason": "not_sealed"})

    def release_shares(self, holder: LocalAccount, section_id: bytes, digest: bytes) -> TxOutcome:
        return self._send(holder, self.contract.tx("releaseShares", section_id, digest), et.SHARES_RELEASED,
                          section_id, {"holder": holder.address, "digest": digest})

    def release_shares_for(self, relayer: LocalAccount, section_id: bytes, holder: str, digest: bytes,
                           signature: bytes) -> TxOutcome:
        """Relay a holder's signed release (holders need no gas on the centre's chain)."""
        holder = to_checksum_address(holder)
        return self._send(relayer, self.contract.tx("releaseSharesFor", section_id, holder, digest, signature),
                          et.SHARES_RELEASED, section_id, {"holder": holder, "digest": digest})

    def sign_release(self, holder: LocalAccount, section_id: bytes, digest: bytes) -> bytes:
        """A holder's EIP-712 signature recording its release of ``digest``."""
        types = {"ShareRelease": [{"name": "sectionId", "type": "bytes32"}, {"name": "digest", "type": "bytes32"}]}
        return bytes(holder.sign_typed_data(self.domain(), types,
                                            {"sectionId": section_id, "digest": digest}).signature)

    def open_bid(self, opener: LocalAccount, section_id: bytes, index: int, entry: BoxEntry, proof: list[bytes],
                 opening: Opening) -> str:
        """Open entry ``index``; returns ``valid``, ``inconsistent`` or ``replaced`` (the same bidder's later
        entry counts: Art. 29); collusion signals and replacements are notarized as events of their own."""
        call = self.contract.tx("openBid", section_id, index, entry.as_tuple(), proof, opening.as_tuple())
        self._send(opener, call, et.BID_OPENED, section_id, {
            "index": index, "pseudonym": entry.pseudonym, "bidder_id": opening.bidder_id,
            "file_key": opening.file_key, "clear_file_hash": opening.clear_file_hash},
            events=("BidFileInconsistent", "SharedSignal", "BidReplaced"), gas=800_000)
        return self.bid(section_id, index)["state"]

    def mark_undecryptable(self, centre: LocalAccount, section_id: bytes, index: int, entry: BoxEntry,
                           proof: list[bytes], identity: Identity, file_key_hash: bytes) -> str:
        """Settle an entry that could not be decrypted (its bidder's identity shown, so one bidder
        counts once); the contract says whose cause it was."""
        call = self.contract.tx("markUndecryptable", section_id, index, entry.as_tuple(), proof, identity.as_tuple(),
                                file_key_hash)
        self._send(centre, call, et.BID_SETTLED, section_id, {"index": index, "pseudonym": entry.pseudonym},
                   events=("BidUndecryptable",))
        return self.bid(section_id, index)["state"]

    def close_opening(self, centre: LocalAccount, section_id: bytes) -> SectionInfo:
        info = self.section(section_id)
        self._send(centre, self.contract.tx("closeOpening", section_id), et.OPENING_CLOSED, section_id,
                   {"valid_bids": info.valid, "bids": info.box_size}, events=("HolderWithheld", "SectionFailed"))
        return self.section(section_id)

    def expire_opening(self, account: LocalAccount, section_id: bytes) -> SectionInfo:
        self._send(account, self.contract.tx("expireOpening", section_id), et.OPENING_CLOSED, section_id,
                   {"expired": True}, events=("HolderWithheld", "BidUndecryptable"), gas=2_000_000)
        return self.section(section_id)

    def set_committee(self, centre: LocalAccount, section_id: bytes, members: list[str]) -> TxOutcome:
        members = [to_checksum_address(m) for m in members]
        return self._send(centre, self.contract.tx("setCommittee", section_id, members), et.COMMITTEE_SET,
                          section_id, {"members": members})

    def reject_all(self, submitter: LocalAccount, section_id: bytes, decision: str, signatures: list[bytes]
                   ) -> TxOutcome:
        decision_hash = hashlib.sha256(decision.encode()).digest()
        return self._send(submitter, self.contract.tx("rejectAllBids", section_id, decision_hash, signatures),
                          et.BIDS_REJECTED, section_id, {"decision": decision, "decision_hash": decision_hash})

    def sign_rejection(self, member: LocalAccount, section_id: bytes, decision: str) -> bytes:
        """A committee member's EIP-712 signature of the decision to reject all bids."""
        types = {"Rejection": [{"name": "sectionId", "type": "bytes32"}, {"name": "decisionHash", "type": "bytes32"}]}
        message = {"sectionId": section_id, "decisionHash": hashlib.sha256(decision.encode()).digest()}
        return bytes(member.sign_typed_data(self.domain(), types, message).signature)

    # --- reads ---------------------------------------------------------------------------------

    def section(self, section_id: bytes) -> SectionInfo:
        r = self.contract.read("sectionOf", section_id)
        return SectionInfo(section_id, r[0], r[1], SECTION_STATES[r[2]], FAIL_REASONS[r[3]], bytes(r[4]), r[5], r[6],
                           r[7], bytes(r[8]), r[9], r[10], r[11], r[12])

    def bid(self, section_id: bytes, index: int) -> dict[str, Any]:
        state, bidder_id, pseudonym, version = self.contract.read("bidOf", section_id, index)
        return {"state": BID_STATES[state], "bidder_id": bytes(bidder_id), "pseudonym": bytes(pseudonym),
                "version": version}

    def holders(self, section_id: bytes) -> list[str]:
        return list(self.contract.read("holdersOf", section_id))

    def released_by(self, section_id: bytes, holder: str) -> bytes:
        return bytes(self.contract.read("releaseOf", section_id, to_checksum_address(holder)))

    def profile(self, name: str) -> Profile | None:
        r = self.contract.read("profileOf", profile_id(name))
        return Profile(r[0], r[1], r[2], r[3]) if r[4] else None

    def bidder(self, region: int, bidder_id: bytes) -> dict[str, Any]:
        ca, revoked, keys = self.contract.read("bidderOf", region, bidder_id)
        return {"ca_cert_hash": bytes(ca), "revoked": revoked,
                "keys": [{"key": k[0], "since": k[1], "until": k[2]} for k in keys]}
