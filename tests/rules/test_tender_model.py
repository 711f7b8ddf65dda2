"""Random sequences of commits, replacements, withdrawals, time jumps, openings and reveals,
run on the contract and on a plain-Python model of the rules; every outcome must agree."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
from eth_account import Account
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from lianzheng.chain_node.anvil import AnvilNode
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender.contract import SealedBid, TenderRules

REGION, BIDDERS, LEAD, WINDOW = 370000, 4, 20, 200
ZERO = b"\x00" * 32


@dataclass
class ModelBid:
    state: str = "none"
    nonce: int = 0
    sealed: SealedBid | None = None


@dataclass
class Model:
    """The rules as the trading centres wrote them, in plain Python."""

    deadline: int
    opening_ends: int
    state: str = "bidding"
    bids: dict[int, ModelBid] = field(default_factory=lambda: {i: ModelBid() for i in range(BIDDERS)})
    flags: list[tuple[str, bytes, int, int]] = field(default_factory=list)
    file_owner: dict[bytes, int] = field(default_factory=dict)
    fingerprint_owner: dict[bytes, int] = field(default_factory=dict)
    valid: int = 0
    inconsistent: int = 0

    @property
    def active(self) -> int:
        """Bids submitted and not withdrawn (opened ones included)."""
        return sum(b.state in ("committed", "valid", "inconsistent") for b in self.bids.values())

    def signed_step(self, t: int, i: int, nonce: int, right_key: bool) -> str | None:
        if t >= self.deadline:
            return "BidDeadlinePassed"
        if nonce <= self.bids[i].nonce:
            return "TenderRulesStaleNonce"
        if not right_key:
            return "TenderRulesInvalidSignature"
        return None

    def commit(self, t, i, sealed, nonce, right_key):
        error = self.signed_step(t, i, nonce, right_key)
        if error is None:
            self.bids[i] = ModelBid("committed", nonce, sealed)
        return error

    def withdraw(self, t, i, nonce, right_key):
        error = self.signed_step(t, i, nonce, right_key)
        if error is None and self.bids[i].state != "committed":
            return "TenderRulesNoActiveBid"
        if error is None:
            self.bids[i] = ModelBid("withdrawn", nonce, None)
        return error

    def start_opening(self, t, by_centre):
        if not by_centre:
            return "AccessControlUnauthorizedAccount"
        if self.state != "bidding":
            return "TenderRulesWrongState"
        if t < self.deadline:
            return "TenderRulesOpeningBeforeDeadline"
        if t >= self.opening_ends:
            return "TenderRulesOpeningWindowClosed"
        self.state = "opening"
        return None

    def reveal(self, t, i, revealed: SealedBid):
        if self.state != "opening":
            return "TenderRulesWrongState"
        if t >= self.opening_ends:
            return "TenderRulesOpeningWindowClosed"
        bid = self.bids[i]
        if bid.state != "committed":
            return "TenderRulesNoActiveBid"
        if revealed != bid.sealed:
            bid.state = "inconsistent"
            self.inconsistent += 1
            return None
        bid.state = "valid"
        self.valid += 1
        for kind, value, owners in (("DuplicateBidFile", revealed.file_hash, self.file_owner),
                                    ("SharedDeviceFingerprint", revealed.fingerprint, self.fingerprint_owner)):
            if kind == "SharedDeviceFingerprint" and value == ZERO:
                continue
            if value in owners:
                self.flags.append((kind, value, owners[value], i))
            else:
                owners[value] = i
        return None

    def close(self, t, by_centre):
        over = t >= self.opening_ends
        if self.state == "opening":
            if not over and not by_centre:
                return "AccessControlUnauthorizedAccount"
        elif self.state != "bidding" or not over:
            return "TenderRulesWrongState"
        self.state = "failed" if self.valid < 3 else "evaluation"
        return None


class Deployment:
    """One chain and one TenderRules for all examples; each example opens its own section."""

    def __init__(self, kind: str, tmp: str) -> None:
        if kind == "embedded":
            from lianzheng.chain_node.embedded import EmbeddedChain

            self.chain, self.node = EmbeddedChain(__import__("pathlib").Path(tmp)), None
        else:
            self.node = AnvilNode()
            self.chain = self.node.chain()
        accounts = [Account.create() for _ in range(3)]
        for a in accounts:
            self.chain.fund(a.address)
        self.admin, self.centre, self.relayer = accounts
        self.rules = TenderRules.deploy(self.chain, self.admin)
        self.rules.grant_centre(self.admin, REGION, self.centre.address)
        self.keys = [Account.create() for _ in range(BIDDERS)]
        self.ids = [os.urandom(32) for _ in range(BIDDERS)]
        for bid_id, key in zip(self.ids, self.keys):
            self.rules.register_bidder(self.centre, REGION, bid_id, key.address)
        self.sections = 0

    def close(self) -> None:
        self.chain.close()
        if self.node:
            self.node.stop()


def make_machine(deployment: Deployment):
    class TenderMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            d = self.d = deployment
            d.sections += 1
            self.now = max(d.chain.block_time(), int(time.time())) + 5
            deadline = self.now + LEAD
            self.section = d.rules.open_section(d.centre, REGION, "MODEL", f"S{d.sections}", deadline, WINDOW)
            self.model = Model(deadline, deadline + WINDOW)

        def _at_now(self, fn, *args) -> str | None:
            self.d.chain.set_next_block_time(self.now)
            self.now += 2  # the embedded chain mines an empty block one second before each step
            try:
                fn(*args)
            except RuleRejected as exc:
                return exc.error_name
            return None

        def _expect(self, expected, actual) -> None:
            assert actual == expected, f"contract said {actual}, rules say {expected}"

        @initialize(files=st.lists(st.integers(0, 2), min_size=BIDDERS - 1, max_size=BIDDERS - 1),
                    fingerprints=st.lists(st.sampled_from([None, 0, 1]), min_size=BIDDERS - 1, max_size=BIDDERS - 1))
        def most_bidders_commit_early(self, files, fingerprints):
            # Without this, random walks rarely reach an opening with enough bids to judge.
            for i, (file, fingerprint) in enumerate(zip(files, fingerprints)):
                self.commit(i, file, fingerprint, 1, True)

        @rule(seconds=st.sampled_from([1, 4, 12, 30]))
        def time_passes(self, seconds):
            self.now += seconds

        @rule(i=st.integers(0, BIDDERS - 1), file=st.integers(0, 2), fingerprint=st.sampled_from([None, 0, 1]),
              nonce_step=st.sampled_from([1, 1, 1, 2, 0]), right_key=st.sampled_from([True, True, True, False]))
        def commit(self, i, file, fingerprint, nonce_step, right_key):
            sealed = SealedBid(bytes([file + 1]) * 32, os.urandom(32),
                               ZERO if fingerprint is None else bytes([fingerprint + 1]) * 32)
            nonce = self.model.bids[i].nonce + nonce_step
            key = self.d.keys[i] if right_key else self.d.keys[(i + 1) % BIDDERS]
            message = self.d.rules.sign_commitment(key, self.section, self.d.ids[i],
                                                   sealed.commitment(self.section, self.d.ids[i]), nonce)
            t = self.now
            actual = self._at_now(self.d.rules.relay, self.d.relayer, message)
            self._expect(self.model.commit(t, i, sealed, nonce, right_key), actual)

        @rule(i=st.integers(0, BIDDERS - 1), nonce_step=st.sampled_from([1, 1, 0]), right_key=st.booleans())
        def withdraw(self, i, nonce_step, right_key):
            nonce = self.model.bids[i].nonce + nonce_step
            key = self.d.keys[i] if right_key else self.d.keys[(i + 1) % BIDDERS]
            message = self.d.rules.sign_withdrawal(key, self.section, self.d.ids[i], nonce)
            t = self.now
            actual = self._at_now(self.d.rules.relay, self.d.relayer, message)
            self._expect(self.model.withdraw(t, i, nonce, right_key), actual)

        @rule(by_centre=st.sampled_from([True, True, False]))
        def start_opening(self, by_centre):
            t = self.now
            account = self.d.centre if by_centre else self.d.relayer
            actual = self._at_now(self.d.rules.start_opening, account, self.section)
            self._expect(self.model.start_opening(t, by_centre), actual)

        @precondition(lambda self: self.model.state == "opening")
        @rule(i=st.integers(0, BIDDERS - 1), tamper=st.sampled_from([False, False, False, True]))
        def reveal(self, i, tamper):
            committed = self.model.bids[i].sealed or SealedBid(os.urandom(32), os.urandom(32))
            revealed = SealedBid(os.urandom(32), committed.salt, committed.fingerprint) if tamper else committed
            t = self.now
            actual = self._at_now(self.d.rules.reveal, self.d.centre, self.section, self.d.ids[i], revealed)
            self._expect(self.model.reveal(t, i, revealed), actual)

        @rule(by_centre=st.booleans())
        def close(self, by_centre):
            t = self.now
            account = self.d.centre if by_centre else self.d.relayer
            actual = self._at_now(self.d.rules.close_opening, account, self.section)
            self._expect(self.model.close(t, by_centre), actual)

        @invariant()
        def chain_agrees_with_model(self):
            rules, m = self.d.rules, self.model
            view = rules.section(self.section)
            on_chain = (view.state, view.active_bids, view.valid_bids, view.inconsistent_bids)
            assert on_chain == (m.state, m.active, m.valid, m.inconsistent), on_chain
            for i, bid_id in enumerate(self.d.ids):
                on_chain = rules.bid(self.section, bid_id)
                assert (on_chain.state, on_chain.nonce) == (m.bids[i].state, m.bids[i].nonce)
            flags = [(f.kind, f.value, self.d.ids.index(f.first_bidder), self.d.ids.index(f.second_bidder))
                     for f in rules.flags(self.section)]
            assert flags == m.flags

    return TenderMachine


@pytest.mark.parametrize("kind, examples", [
    ("embedded", 30), pytest.param("anvil", 12, marks=pytest.mark.anvil)])
def test_contract_follows_the_rules_model(kind, examples, tmp_path):
    deployment = Deployment(kind, str(tmp_path / "chain"))
    try:
        machine = make_machine(deployment)
        machine.TestCase.settings = settings(max_examples=examples, stateful_step_count=30, deadline=None,
                                             suppress_health_check=list(HealthCheck), database=None)
        machine.TestCase().runTest()
    finally:
        deployment.close()
