"""The ExpertDraw contract from Python, on any chain; every step of a draw notarized (see ``rules.steps``).

The steps, by whom (``contracts/src/ExpertDraw.sol`` has the argument):

- admin: ``set_profile`` (committee profiles), ``grant_*`` (centres, supervisors, registrars,
  independent parties); registrar of a province: ``anchor_registry``; each seed party once:
  ``set_party_key`` (its X25519 key).
- host centre: ``create`` (plan: profile, strata, parties), ``commit_pools`` for its province;
  the centre of another province ``commit_pools`` for that province's strata.
- each party: ``commit_seed`` (deal), ``acknowledge`` (check the shares dealt to it; a bad one
  is a complaint that voids the draw before any secret is known), ``reveal_seed``;
  after the reveal window, for a withholder: ``publish_share``.
- anyone: ``void`` a draw whose window passed with someone missing.
- host centre with a supervisor's signature (``sign_replacement``): ``replace``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.chain_node import Chain, TxOutcome
from lianzheng.rules.errors import RuleInputError, RuleRejected
from lianzheng.rules.experts import escrow
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.profiles import CommitteeProfile, load_committee_profiles, profile_id
from lianzheng.rules.experts.registry import Registry
from lianzheng.rules.experts.roster import DrawPlan
from lianzheng.rules.experts.sequence import VENUES, stratum_tuple
from lianzheng.rules.journal import StepJournal
from lianzheng.rules.steps import STEP_GAS, EventSink, RuleContract
from lianzheng.rules.tender.crypto import SealError, public_bytes
from lianzheng.sdk import event_types as et

DRAW_STATES = ("none", "pooling", "committing", "acknowledging", "revealing", "drawn", "voided")
PHASES = ("none", "pool", "commit", "acknowledge", "reveal")
REASONS = ("none", "refused", "absent", "conflict", "unable", "left")
DRAWING_GAS = 3_000_000  # the last reveal or recovery draws every stratum
SHARE_GAS = 1_500_000  # a published share is checked with t ecMul; the t-th interpolates


@dataclass(frozen=True)
class DrawView:
    draw_id: bytes
    section_id: bytes
    region: int
    round: int
    state: str
    profile: bytes
    strata: int
    pooled: int
    parties: int
    threshold: int
    progress: int
    replacements: int
    replacement_cap: int
    created_at: int
    window: int
    phase_ends: int
    plan_hash: bytes
    seed: bytes


@dataclass(frozen=True)
class PartyView:
    address: str
    committed: bool
    acknowledged: bool
    known: bool
    recovered: bool


@dataclass(frozen=True)
class StratumView:
    index: int
    speciality: str
    venue: str
    scope: str
    quota: int

    @property
    def province(self) -> str:
        return self.scope[:2]


@dataclass(frozen=True)
class PoolView:
    root: bytes
    size: int
    exclusion_hash: bytes
    snapshot: int

    def as_tuple(self) -> tuple[bytes, int, bytes, int]:
        return self.root, self.size, self.exclusion_hash, self.snapshot


@dataclass(frozen=True)
class _DrawSubject:
    draw_id: bytes
    section_id: bytes
    round: int
    region: int
    project: str
    section: str

    def payload(self) -> dict[str, Any]:
        return {"draw_id": self.draw_id.hex(), "section_id": self.section_id.hex(), "round": self.round}


def replacement_types() -> dict[str, list[dict[str, str]]]:
    return {"Replacement": [{"name": "drawId", "type": "bytes32"}, {"name": "stratum", "type": "uint32"},
                            {"name": "ordinal", "type": "uint32"}, {"name": "reason", "type": "uint8"},
                            {"name": "count", "type": "uint32"}]}


def reason_of(text: str) -> int:
    if text not in REASONS[1:]:
        raise RuleInputError(f"a replacement reason is one of {', '.join(REASONS[1:])}, not {text!r}")
    return REASONS.index(text)


class ExpertDraw(RuleContract):
    CONTRACT = "ExpertDraw"

    def __init__(self, chain: Chain, address: str, notary: EventSink | None = None,
                 journal: StepJournal | None = None) -> None:
        super().__init__(chain, address, notary, journal)
        self._draws: dict[bytes, _DrawSubject] = {}

    @classmethod
    def deploy(cls, chain: Chain, admin: LocalAccount, notary: EventSink | None = None,
               journal: StepJournal | None = None, tender: str = "",
               profiles: dict[str, CommitteeProfile] | None = None) -> ExpertDraw:
        """Deploy over the TenderRules at ``tender`` and set the committee profiles (default: all of
        rules/experts/profiles.json)."""
        if not tender:
            raise RuleInputError("ExpertDraw needs the TenderRules contract its sections come from")
        draws = cls(chain, chain.deploy(admin, "ExpertDraw", admin.address, to_checksum_address(tender)),
                    notary, journal)
        for profile in (load_committee_profiles() if profiles is None else profiles).values():
            draws.set_profile(admin, profile)
        return draws

    def _subject(self, draw_id: bytes) -> _DrawSubject:
        if draw_id not in self._draws:
            logs = self.contract.logs("DrawCreated", drawId=draw_id)
            if not logs:
                raise RuleRejected(f"ExpertDrawUnknown({draw_id.hex()})")
            a = logs[0].args
            self._draws[draw_id] = _DrawSubject(draw_id, bytes(a["sectionId"]), a["round"], a["region"],
                                                a["project"], a["section"])
        return self._draws[draw_id]

    def _admin(self, admin: LocalAccount, fn: str, *args: Any) -> TxOutcome:
        return self._transact(admin, self.contract.tx(fn, *args), gas=STEP_GAS)  # no estimate: /chain/rpc has none

    # --- roles, profiles, registries, keys --------------------------------------------

    def _grant(self, admin: LocalAccount, role: bytes, account: str) -> None:
        self._admin(admin, "grantRole", role, to_checksum_address(account))

    def grant_centre(self, admin: LocalAccount, region: int, account: str) -> None:
        self._grant(admin, self.contract.read("centreRole", region), account)

    def grant_supervisor(self, admin: LocalAccount, region: int, account: str) -> None:
        self._grant(admin, self.contract.read("supervisorRole", region), account)

    def grant_registrar(self, admin: LocalAccount, province: int, account: str) -> None:
        self._grant(admin, self.contract.read("registrarRole", province), account)

    def grant_independent(self, admin: LocalAccount, account: str) -> None:
        self._grant(admin, self.contract.read("INDEPENDENT_ROLE"), account)

    def set_profile(self, admin: LocalAccount, p: CommitteeProfile) -> None:
        num, den = p.experts_min_share
        self._admin(admin, "setProfile", p.profile_id, (p.min_members, p.odd, num, den, p.max_replacements))

    def anchor_registry(self, registrar: LocalAccount, registry: Registry) -> int:
        """Anchor ``registry``'s snapshot (salted Merkle root) for its province; returns its index."""
        as_of = int(_midnight(registry.as_of))
        outcome = self._admin(registrar, "anchorRegistry", int(registry.province), registry.root, registry.size, as_of)
        return self.contract.logs_in(outcome.receipt, "RegistryAnchored")[0].args["index"]

    def snapshot(self, province: int, index: int) -> tuple[bytes, int, int, int]:
        root, size, as_of, anchored_at = self.contract.read("snapshotOf", province, index)
        return bytes(root), size, as_of, anchored_at

    def snapshot_before(self, province: int, when: int) -> int:
        """The index of the province's latest snapshot anchored before ``when`` (0: none)."""
        count = max((log.args["index"] for log in self.contract.logs("RegistryAnchored", province=province)), default=0)
        for index in range(count, 0, -1):
            if self.snapshot(province, index)[3] < when:
                return index
        return 0

    def set_party_key(self, party: LocalAccount, key: X25519PrivateKey | bytes) -> None:
        raw = key if isinstance(key, bytes) else public_bytes(key)
        self._admin(party, "setPartyKey", raw)

    def party_key(self, account: str) -> bytes:
        return bytes(self.contract.read("partyKeyOf", to_checksum_address(account)))

    # --- planning and pools -----------------------------------------------------------

    def create(self, centre: LocalAccount, plan: DrawPlan, parties: list[str], window: int = 3600) -> bytes:
        """Plan the draw of ``plan``'s section (its bids must be opened); returns the draw id."""
        region = int(plan.region)
        section_id = bytes(self.contract.read("sectionIdOf", region, plan.project, plan.section))
        round_ = self.latest_round(section_id)
        draw_id = bytes(self.contract.read("drawIdOf", section_id, round_ + 1))
        self._draws[draw_id] = _DrawSubject(draw_id, section_id, round_ + 1, region, plan.project, plan.section)
        try:
            parties = [to_checksum_address(p) for p in parties]
        except ValueError as exc:
            raise RuleInputError(f"a party is not an account address: {exc}") from exc
        strata = [stratum_tuple(s.speciality, s.venue, s.scope, s.quota) for s in plan.strata]
        call = self.contract.tx("createDraw", (region, plan.project, plan.section, profile_id(plan.profile),
                                               plan.tenderer_reps, plan.avoidance_inputs(), strata, parties, window))
        self._send(centre, call, et.DRAW_PLANNED, draw_id, {
            "profile": plan.profile, "tenderer_reps": plan.tenderer_reps, "parties": parties,
            "strata": [{"speciality": s.speciality, "venue": s.venue, "scope": s.scope, "quota": s.quota}
                       for s in plan.strata]}, gas=1_500_000)
        return draw_id

    def commit_pools(self, centre: LocalAccount, draw_id: bytes, pool: Pool) -> list[int]:
        """Commit each of ``pool``'s strata (one province's), from the province's latest registry
        snapshot anchored before the draw; returns the stratum indices committed."""
        view = self.draw(draw_id)
        if pool.plan.as_of != draw_date(view.created_at):
            raise RuleInputError(f"the pool's as_of must be the draw's date {draw_date(view.created_at)}, "
                                 f"not {pool.plan.as_of}: build it with plan_for_draw")
        snapshot = self.snapshot_before(int(pool.province), view.created_at)
        done = []
        for sp in pool.strata:
            committed = (sp.root, sp.size, sp.exclusion_hash, snapshot)
            self._send(centre, self.contract.tx("commitPool", draw_id, sp.index, committed), et.POOL_COMMITTED,
                       draw_id, {"stratum": sp.index, "pool_root": sp.root, "pool_size": sp.size,
                                 "exclusion_hash": sp.exclusion_hash, "excluded": len(sp.excluded),
                                 "province": pool.province, "snapshot": snapshot})
            done.append(sp.index)
        return done

    # --- the seed ---------------------------------------------------------------------

    def commit_seed(self, party: LocalAccount, draw_id: bytes, secret: int | None = None) -> escrow.Dealing:
        """Deal ``party``'s fresh (or given) secret: commitments and shares sealed to the other
        parties' registered keys. Returns the dealing: keep ``secret`` until the reveal."""
        parties = [p.address for p in self.parties(draw_id)]
        try:
            me = parties.index(to_checksum_address(party.address))
        except ValueError:
            raise RuleRejected(f"ExpertDrawNotParty({draw_id.hex()}, {party.address})") from None
        dealing = escrow.deal(len(parties), me, secret)
        sealed = [b"" if j == me else escrow.seal(dealing.shares[j], self.party_key(addr),
                                                   escrow.share_context(draw_id, party.address, addr))
                  for j, addr in enumerate(parties)]
        call = self.contract.tx("commitSeed", draw_id, [list(c) for c in dealing.commitments], sealed)
        self._send(party, call, et.SEED_COMMITTED, draw_id,
                   {"commitments": [[hex(x), hex(y)] for x, y in dealing.commitments]}, gas=1_000_000)
        return dealing

    def dealings(self, draw_id: bytes) -> dict[str, tuple[list[tuple[int, int]], list[bytes]]]:
        """Each dealer's commitments and sealed shares, from its ``SeedCommitted`` event."""
        out = {}
        for log in self.contract.logs("SeedCommitted", drawId=draw_id):
            out[log.args["party"]] = ([(int(c[0]), int(c[1])) for c in log.args["commitments"]],
                                      [bytes(s) for s in log.args["sealedShares"]])
        return out

    def my_shares(self, party: str, key: X25519PrivateKey, draw_id: bytes) -> dict[str, int | None]:
        """The share each other dealer sealed to ``party``, checked; ``None`` where it does not open or check."""
        parties = [p.address for p in self.parties(draw_id)]
        me = parties.index(to_checksum_address(party))
        shares: dict[str, int | None] = {}
        for dealer, (commitments, sealed) in self.dealings(draw_id).items():
            if dealer == parties[me]:
                continue
            try:
                share = escrow.open_sealed(sealed[me], key, escrow.share_context(draw_id, dealer, parties[me]))
            except (SealError, IndexError):
                shares[dealer] = None
                continue
            shares[dealer] = share if escrow.share_is_valid(commitments, me, share) else None
        return shares

    def acknowledge(self, party: LocalAccount, key: X25519PrivateKey, draw_id: bytes) -> str | None:
        """Check every share dealt to ``party``: all good → acknowledged (returns None); else a complaint
        against the first bad dealer, which voids the draw (returns that dealer)."""
        bad = [dealer for dealer, share in self.my_shares(party.address, key, draw_id).items() if share is None]
        if bad:
            self._send(party, self.contract.tx("complain", draw_id, bad[0]), et.SHARES_DISPUTED, draw_id,
                       {"dealer": bad[0]})
            return bad[0]
        self._send(party, self.contract.tx("acknowledgeShares", draw_id), et.SHARES_ACKNOWLEDGED, draw_id, {})
        return None

    def reveal_seed(self, party: LocalAccount, draw_id: bytes, secret: int) -> TxOutcome:
        """Reveal ``party``'s secret; the last secret known draws (notarized as ``experts.drawn`` too)."""
        return self._send(party, self.contract.tx("revealSeed", draw_id, secret), et.SEED_REVEALED,
                          draw_id, {"secret": hex(secret)}, gas=DRAWING_GAS, events=("StratumDrawn",))

    def publish_share(self, party: LocalAccount, key: X25519PrivateKey, draw_id: bytes, dealer: str) -> TxOutcome:
        """After the reveal window: publish the share ``dealer`` (who withheld) dealt to ``party``."""
        dealer = to_checksum_address(dealer)
        share = self.my_shares(party.address, key, draw_id).get(dealer)
        if share is None:
            raise RuleInputError(f"no valid share of {dealer} for {party.address}")
        commitments = [list(c) for c in self.dealings(draw_id)[dealer][0]]
        call = self.contract.tx("publishShare", draw_id, dealer, share, commitments)
        return self._send(party, call, et.SHARE_PUBLISHED, draw_id, {"dealer": dealer, "share": hex(share)},
                          gas=DRAWING_GAS, events=("SecretRecovered", "StratumDrawn"))

    def void(self, account: LocalAccount, draw_id: bytes) -> tuple[str, list[str]]:
        """Void a draw whose window passed with someone missing; returns the phase and the defaulters."""
        view = self.draw(draw_id)
        phase = {"pooling": "pool", "committing": "commit", "acknowledging": "acknowledge"}.get(view.state, "reveal")
        missing = {"pool": lambda p: False, "commit": lambda p: not p.committed,
                   "acknowledge": lambda p: not p.acknowledged, "reveal": lambda p: not p.known}[phase]
        defaulters = [p.address for p in self.parties(draw_id) if missing(p)]
        outcome = self._send(account, self.contract.tx("voidDraw", draw_id), et.DRAW_VOIDED, draw_id,
                             {"phase": phase, "defaulters": defaulters})
        log = self.contract.logs_in(outcome.receipt, "DrawVoided")[0]
        return PHASES[log.args["phase"]], list(log.args["defaulters"])

    # --- replacements ---------------------------------------------------------------------

    def domain(self) -> dict[str, Any]:
        return {"name": "LianzhengExpertDraw", "version": "2", "chainId": self.chain.chain_id,
                "verifyingContract": self.address}

    def sign_replacement(self, supervisor: LocalAccount, draw_id: bytes, stratum: int, ordinal: int,
                         reason: str, count: int | None = None) -> bytes:
        """A supervisor's co-signature of one replacement (``count``: replacements so far in the draw)."""
        count = self.draw(draw_id).replacements if count is None else count
        message = {"drawId": draw_id, "stratum": stratum, "ordinal": ordinal, "reason": reason_of(reason),
                   "count": count}
        return bytes(supervisor.sign_typed_data(self.domain(), replacement_types(), message).signature)

    def replace(self, centre: LocalAccount, draw_id: bytes, stratum: int, ordinal: int, reason: str,
                supervisor_signature: bytes) -> int:
        """The expert drawn as ``ordinal`` of ``stratum`` cannot serve: the next position of the stratum's
        shuffle takes the seat. Returns that position."""
        call = self.contract.tx("replaceExpert", draw_id, stratum, ordinal, reason_of(reason), supervisor_signature)
        self._send(centre, call, et.EXPERT_REPLACED, draw_id, {"stratum": stratum, "ordinal": ordinal,
                                                              "reason": reason}, gas=DRAWING_GAS)
        return self.positions(draw_id, stratum)[0][-1]

    def reveal_expert(self, centre: LocalAccount, draw_id: bytes, stratum: int, ordinal: int,
                      pool: Pool) -> dict[str, Any]:
        """The identity, salt and proof of the expert drawn as ``ordinal`` of ``stratum``, checked by the
        contract. Notarized as ``experts.expert_revealed`` with the position and leaf only, never the name."""
        drawn, _ = self.positions(draw_id, stratum)
        if not 0 <= ordinal < len(drawn):
            raise RuleInputError(f"stratum {stratum} has no ordinal {ordinal} (drawn: {len(drawn)})")
        shown = {"draw_id": draw_id.hex(), "ordinal": ordinal, **pool.stratum(stratum).reveal(drawn[ordinal])}
        if not self.check_expert(draw_id, stratum, ordinal, bytes.fromhex(shown["leaf"]),
                                 [bytes.fromhex(p) for p in shown["proof"]]):
            raise RuleRejected(f"the pool file does not match draw {draw_id.hex()}: proof refused on chain")
        self._record(et.EXPERT_REVEALED, draw_id, centre.address, self.chain.block_time(),
                     {"stratum": stratum, "ordinal": ordinal, "position": drawn[ordinal], "leaf": shown["leaf"]},
                     event_id=f"rule-{draw_id.hex()}-expert-{stratum}-{ordinal}")
        return shown

    # --- reads ------------------------------------------------------------------------

    def draw_id(self, region: int, project: str, section: str, round_: int | None = None) -> bytes:
        section_id = bytes(self.contract.read("sectionIdOf", region, project, section))
        if round_ is None:
            round_ = self.latest_round(section_id)
        return bytes(self.contract.read("drawIdOf", section_id, round_))

    def plan_for_draw(self, draw_id: bytes, plan: DrawPlan) -> DrawPlan:
        """``plan`` with the draw's date as ``as_of``: avoidance counts as of the day the draw was created."""
        return plan.model_copy(update={"as_of": draw_date(self.draw(draw_id).created_at)})

    def latest_round(self, section_id: bytes) -> int:
        return max((log.args["round"] for log in self.contract.logs("DrawCreated", sectionId=section_id)), default=0)

    def subject(self, draw_id: bytes) -> _DrawSubject:
        return self._subject(draw_id)

    def draw(self, draw_id: bytes) -> DrawView:
        r = self.contract.read("drawOf", draw_id)
        return DrawView(draw_id, bytes(r[0]), r[1], r[2], DRAW_STATES[r[3]], bytes(r[4]), *r[5:15],
                        bytes(r[15]), bytes(r[16]))

    def strata(self, draw_id: bytes) -> list[StratumView]:
        logs = sorted(self.contract.logs("StratumPlanned", drawId=draw_id), key=lambda lg: lg.args["index"])
        out = []
        for log in logs:
            speciality, venue, scope, quota = log.args["stratum"]
            out.append(StratumView(log.args["index"], bytes(speciality).rstrip(b"\x00").decode("ascii"),
                                   VENUES[venue], str(scope), quota))
        return out

    def pools(self, draw_id: bytes) -> dict[int, PoolView]:
        out = {}
        for log in self.contract.logs("PoolCommitted", drawId=draw_id):
            root, size, exclusion, snapshot = log.args["pool"]
            out[log.args["stratum"]] = PoolView(bytes(root), size, bytes(exclusion), snapshot)
        return out

    def plan_of(self, draw_id: bytes) -> dict[str, Any]:
        log = self.contract.logs("DrawPlanned", drawId=draw_id)[0]
        return {"profile": bytes(log.args["profile"]), "tenderer_reps": log.args["tendererReps"],
                "avoidance": bytes(log.args["avoidance"]),
                "parties": list(log.args["parties"]), "threshold": log.args["threshold"]}

    def positions(self, draw_id: bytes, stratum: int) -> tuple[list[int], frozenset[int]]:
        drawn, replaced = self.contract.read("positionsOf", draw_id, stratum)
        return list(drawn), frozenset(i for i in range(64) if replaced >> i & 1)

    def parties(self, draw_id: bytes) -> list[PartyView]:
        addresses, flags = self.contract.read("partiesOf", draw_id)
        return [PartyView(a, *(bool(flags >> (4 * i + b) & 1) for b in range(4))) for i, a in enumerate(addresses)]

    def secrets(self, draw_id: bytes) -> dict[str, int]:
        """Every secret known on chain, revealed or recovered, by party."""
        out = {log.args["party"]: int(log.args["secret"]) for log in self.contract.logs("SeedRevealed", drawId=draw_id)}
        out.update({log.args["party"]: int(log.args["secret"])
                    for log in self.contract.logs("SecretRecovered", drawId=draw_id)})
        return out

    def withheld(self, draw_id: bytes) -> list[str]:
        return [log.args["party"] for log in self.contract.logs("SecretRecovered", drawId=draw_id)]

    def replacements(self, draw_id: bytes) -> list[dict[str, Any]]:
        return [{"stratum": lg.args["stratum"], "ordinal": lg.args["ordinal"], "reason": REASONS[lg.args["reason"]],
                 "supervisor": lg.args["supervisor"], "position": lg.args["newPosition"], "count": lg.args["count"]}
                for lg in self.contract.logs("ExpertReplaced", drawId=draw_id)]

    def check_expert(self, draw_id: bytes, stratum: int, ordinal: int, leaf: bytes, proof: list[bytes]) -> bool:
        return bool(self.contract.read("checkExpert", draw_id, stratum, ordinal, leaf, proof))

    def tender_address(self) -> str:
        return self.contract.read("tender")

    def bidders(self, section_id: bytes) -> tuple[bytes, ...]:
        """The bidder ids of a section's opened box, read from the TenderRules contract (not from the centre)."""
        tender = self.chain.contract("TenderRules", self.tender_address())
        size = tender.read("sectionOf", section_id)[7]
        ids = {bytes(tender.read("bidOf", section_id, i)[1]) for i in range(size)}
        return tuple(sorted(i for i in ids if any(i)))


def draw_date(created_at: int) -> date:
    """The date of a draw (Beijing time) from its creation on chain: the ``as_of`` of its avoidance."""
    return datetime.fromtimestamp(created_at, timezone(timedelta(hours=8))).date()


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
