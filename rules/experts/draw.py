"""The ExpertDraw contract from Python, on any chain; every step notarized (see ``rules.steps``)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.chain_node import Chain, TransactionReverted, TxOutcome
from lianzheng.rules.errors import RuleInputError, RuleRejected
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.sequence import commitment_of
from lianzheng.rules.journal import StepJournal
from lianzheng.rules.steps import EventSink, RuleContract
from lianzheng.sdk import event_types as et

DRAW_STATES = ("none", "committing", "revealing", "drawn", "voided")
DRAWING_GAS = 1_500_000  # the last reveal (or a replacement) replays the shuffle: up to ~0.9M gas at 64 positions


@dataclass(frozen=True)
class DrawView:
    draw_id: bytes
    section_id: bytes
    region: int
    round: int
    state: str
    k: int
    pool_size: int
    parties: int
    committed: int
    revealed: int
    commit_ends: int
    reveal_window: int
    reveal_ends: int
    refused: frozenset[int]
    pool_root: bytes
    exclusion_hash: bytes
    secret_xor: bytes
    seed: bytes


@dataclass(frozen=True)
class PartyView:
    address: str
    commitment: bytes
    revealed: bool


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


def reason_code(text: str) -> bytes:
    """A short reason (``refused``, ``unreachable`` ...) as the bytes32 the contract records."""
    raw = text.strip().encode()
    if not raw or len(raw) > 32:
        raise RuleInputError("a replacement reason is 1..32 bytes of UTF-8")
    return raw.ljust(32, b"\x00")


class ExpertDraw(RuleContract):
    CONTRACT = "ExpertDraw"

    def __init__(self, chain: Chain, address: str, notary: EventSink | None = None,
                 journal: StepJournal | None = None) -> None:
        super().__init__(chain, address, notary, journal)
        self._draws: dict[bytes, _DrawSubject] = {}

    @classmethod
    def deploy(cls, chain: Chain, admin: LocalAccount, notary: EventSink | None = None,
               journal: StepJournal | None = None) -> "ExpertDraw":
        return cls(chain, chain.deploy(admin, "ExpertDraw", admin.address), notary, journal)

    def _subject(self, draw_id: bytes) -> _DrawSubject:
        if draw_id not in self._draws:
            logs = self.contract.logs("DrawCreated", drawId=draw_id)
            if not logs:
                raise RuleRejected(f"ExpertDrawUnknown({draw_id.hex()})")
            a = logs[0].args
            self._draws[draw_id] = _DrawSubject(draw_id, bytes(a["sectionId"]), a["round"], a["region"],
                                                a["project"], a["section"])
        return self._draws[draw_id]

    # --- roles (admin) -------------------------------------------------------------

    def _grant(self, admin: LocalAccount, role: bytes, account: str) -> None:
        try:
            self.chain.transact(admin, self.contract.tx("grantRole", role, to_checksum_address(account)))
        except TransactionReverted as exc:
            raise RuleRejected(exc.reason, exc.tx_hash) from exc

    def grant_centre(self, admin: LocalAccount, region: int, account: str) -> None:
        self._grant(admin, self.contract.read("centreRole", region), account)

    def grant_supervisor(self, admin: LocalAccount, region: int, account: str) -> None:
        self._grant(admin, self.contract.read("supervisorRole", region), account)

    # --- the draw ------------------------------------------------------------------

    def create(self, centre: LocalAccount, pool: Pool, parties: list[str], commit_window: int = 3600,
               reveal_window: int = 3600) -> bytes:
        """Commit ``pool`` and the seed parties for the request's section; returns the draw id."""
        r = pool.request
        region = int(r.region)
        section_id = bytes(self.contract.read("sectionIdOf", region, r.project, r.section))
        round_, _ = self.contract.read("latestDraw", section_id)
        draw_id = bytes(self.contract.read("drawIdOf", section_id, round_ + 1))
        self._draws[draw_id] = _DrawSubject(draw_id, section_id, round_ + 1, region, r.project, r.section)
        try:
            parties = [to_checksum_address(p) for p in parties]
        except ValueError as exc:
            raise RuleInputError(f"a party is not an account address: {exc}") from exc
        call = self.contract.tx("createDraw", (region, r.project, r.section, pool.root, pool.size,
                                                   pool.exclusion_hash, r.k, parties, commit_window, reveal_window))
        self._send(centre, call, et.POOL_COMMITTED, draw_id, {
            "pool_root": pool.root, "pool_size": pool.size, "exclusion_hash": pool.exclusion_hash, "k": r.k,
            "excluded": len(pool.excluded), "speciality": r.speciality, "mode": r.mode, "parties": parties})
        return draw_id

    def commit_seed(self, party: LocalAccount, draw_id: bytes, secret: bytes | None = None) -> bytes:
        """Commit a fresh (or the given) secret for ``party``; returns the secret to keep until reveal."""
        secret = secret or os.urandom(32)
        commitment = commitment_of(draw_id, party.address, secret)
        self._send(party, self.contract.tx("commitSeed", draw_id, commitment), et.SEED_COMMITTED,
                   draw_id, {"commitment": commitment})
        return secret

    def reveal_seed(self, party: LocalAccount, draw_id: bytes, secret: bytes) -> TxOutcome:
        """Reveal ``party``'s secret; the last reveal draws (notarized as ``experts.drawn`` too)."""
        return self._send(party, self.contract.tx("revealSeed", draw_id, secret), et.SEED_REVEALED,
                          draw_id, {"secret": secret}, gas=DRAWING_GAS, events=("ExpertsDrawn",))

    def void(self, account: LocalAccount, draw_id: bytes) -> tuple[str, list[str]]:
        """Void a draw whose window passed with a party missing; returns the phase and the defaulters."""
        view = self.draw(draw_id)
        phase = "commit" if view.state == "committing" else "reveal"
        defaulters = [p.address for p in self.parties(draw_id)
                      if (p.commitment == bytes(32) if phase == "commit" else not p.revealed)]
        self._send(account, self.contract.tx("voidDraw", draw_id), et.DRAW_VOIDED, draw_id,
                   {"phase": phase, "defaulters": defaulters})
        return phase, defaulters

    def replace(self, centre: LocalAccount, draw_id: bytes, ordinal: int, reason: str) -> int:
        """The expert drawn as ``ordinal`` refused: the next position of the sequence replaces it."""
        call = self.contract.tx("replaceExpert", draw_id, ordinal, reason_code(reason))
        self._send(centre, call, et.EXPERT_REPLACED, draw_id, {"ordinal": ordinal, "reason": reason},
                   gas=DRAWING_GAS)
        return self.positions(draw_id)[-1]

    def reveal_expert(self, centre: LocalAccount, draw_id: bytes, ordinal: int, pool: Pool) -> dict[str, Any]:
        """The identity, salt and proof of the expert drawn as ``ordinal``, checked by the contract.

        Notarized as ``experts.expert_revealed`` with the position and leaf only, never the name."""
        drawn = self.positions(draw_id)
        if not 0 <= ordinal < len(drawn):
            raise RuleInputError(f"draw has no ordinal {ordinal} (drawn: {len(drawn)})")
        shown = {"draw_id": draw_id.hex(), "ordinal": ordinal, **pool.reveal(drawn[ordinal])}
        if not self.check_expert(draw_id, ordinal, bytes.fromhex(shown["leaf"]),
                                 [bytes.fromhex(p) for p in shown["proof"]]):
            raise RuleRejected(f"the pool file does not match draw {draw_id.hex()}: proof refused on chain")
        when = self.chain.block_time()
        self._record(et.EXPERT_REVEALED, draw_id, centre.address, when,
                     {"ordinal": ordinal, "position": drawn[ordinal], "leaf": shown["leaf"]},
                     event_id=f"rule-{draw_id.hex()}-expert-{ordinal}")
        return shown

    # --- reads -----------------------------------------------------------------------

    def draw_id(self, region: int, project: str, section: str, round_: int | None = None) -> bytes:
        fns = self.contract
        section_id = bytes(fns.read("sectionIdOf", region, project, section))
        if round_ is None:
            round_ = fns.read("latestDraw", section_id)[0]
        return bytes(fns.read("drawIdOf", section_id, round_))

    def subject(self, draw_id: bytes) -> _DrawSubject:
        """The section and round a draw belongs to (from its ``DrawCreated`` event)."""
        return self._subject(draw_id)

    def draw(self, draw_id: bytes) -> DrawView:
        r = self.contract.read("drawOf", draw_id)
        refused = frozenset(i for i in range(64) if r[12] >> i & 1)
        return DrawView(draw_id, bytes(r[0]), r[1], r[2], DRAW_STATES[r[3]], *r[4:12], refused,
                        bytes(r[13]), bytes(r[14]), bytes(r[15]), bytes(r[16]))

    def positions(self, draw_id: bytes) -> list[int]:
        return list(self.contract.read("positionsOf", draw_id))

    def parties(self, draw_id: bytes) -> list[PartyView]:
        addresses, commitments, revealed = self.contract.read("partiesOf", draw_id)
        return [PartyView(a, bytes(c), r) for a, c, r in zip(addresses, commitments, revealed)]

    def revealed_secrets(self, draw_id: bytes) -> dict[str, bytes]:
        logs = self.contract.logs("SeedRevealed", drawId=draw_id)
        return {log.args["party"]: bytes(log.args["secret"]) for log in logs}

    def check_expert(self, draw_id: bytes, ordinal: int, leaf: bytes, proof: list[bytes]) -> bool:
        return bool(self.contract.read("checkExpert", draw_id, ordinal, leaf, proof))

    def positions_for(self, seed: bytes, pool_size: int, count: int) -> list[int]:
        return list(self.contract.read("positionsFor", seed, pool_size, count))
