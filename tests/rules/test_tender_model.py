"""TenderRules against a plain-Python model of the procedure, driven by Hypothesis.

The model is the law as the README states it, in a few lines: the box is sealed only in
[deadline, deadline + seal window], with fewer than three entries the section fails and nothing
opens; anyone fails a section left unsealed; holders release and bids open only in
[deadline, deadline + grace]; an undecryptable entry is settled by the owner in the second half
of the grace, revoked (撤销) when enough holders released, withdrawn (撤回) otherwise; a bidder's
later entry replaces its earlier one; closing needs every entry settled and three distinct
bidders; after the grace anyone expires the opening. Random sequences of steps, moves of the
clock included, must leave the chain and the model in the same state, every refusal predicted.
Run on the embedded EVM and on anvil.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender import sealing
from lianzheng.rules.tender.sealing import BoxEntry
from tests.rules.tender_flow import TEST_PROFILE, Tender, deploy_tender

GRACE, SEAL_WINDOW, MIN_BIDDERS, THRESHOLD = (TEST_PROFILE.opening_grace, TEST_PROFILE.seal_window,
                                              TEST_PROFILE.min_bidders, 2)


class Model:
    def __init__(self, deadline: int) -> None:
        self.deadline = deadline
        self.phase = "bidding"
        self.fail_reason = "none"
        self.owners: list[int] = []  # box entry -> bidder
        self.states: list[str] = []
        self.live: dict[int, int] = {}
        self.distinct = 0
        self.released: set[int] = set()

    @property
    def valid(self) -> int:
        return self.states.count("valid")

    def in_opening(self, t: int) -> bool:
        return self.phase == "sealed" and self.deadline <= t <= self.deadline + GRACE

    def close(self) -> None:
        if self.distinct < MIN_BIDDERS:
            self.phase, self.fail_reason = "failed", "fewer_than_min_bidders"
        else:
            self.phase = "evaluation"


def machine(tender: Tender):
    class TenderMachine(RuleBasedStateMachine):
        @initialize(first=st.lists(st.integers(0, 3), min_size=2, max_size=6))
        def open_section(self, first):
            self.t = tender
            self.now = max(tender.chain.block_time(), int(time.time())) + 10
            self.t.sealed, self.t.raw, self.t.receipts = {}, {}, {}
            self.t.open(deadline_in=600, threshold=THRESHOLD)
            self.m = Model(self.t.rules.section(self.t.section_id).deadline)
            for bidder in first:  # most tenders get some bids early
                self.submit(bidder)

        def _tick(self) -> int:
            """The time of the next transaction (2 s apart: the embedded chain mines a block before it)."""
            self.now += 2
            self.t.chain.set_next_block_time(self.now)
            return self.now

        def _expect(self, allowed: bool, step):
            if allowed:
                return step()
            with pytest.raises(RuleRejected):
                step()
            return None

        @rule(seconds=st.sampled_from([30, 299, 901]))
        def wait(self, seconds):
            self.now += seconds

        @rule(to=st.sampled_from([GRACE // 2, 0, GRACE, GRACE + 1, SEAL_WINDOW, SEAL_WINDOW + 1]))
        def wait_until(self, to):
            """Jump to a boundary of the procedure (the next transaction lands on it), if still ahead."""
            self.now = max(self.now, self.m.deadline + to - 2)

        @precondition(lambda self: self.m.phase == "bidding")
        @rule(bidder=st.integers(0, 3))
        def submit_one(self, bidder):
            self.submit(bidder)

        @precondition(lambda self: self.m.phase == "bidding")
        @rule(bidder=st.integers(0, 3))
        def submit(self, bidder):
            if self.now + 2 >= self.m.deadline:
                return  # the desk refuses late entries; the contract's own refusal is an attack test
            b = self.t.bidders[bidder]
            bid = sealing.sign(sealing.seal(b.file, self.t.section_id, b.bidder_id,
                                            [h.key for h in self.t.holders], THRESHOLD), b.key, self.t.rules.domain())
            signals = sealing.keyed_signals(sealing.raw_signals(b.file, b.observed), self.t.signal_key)
            index = len(self.t.box)
            self.t.box.add(BoxEntry(self.t.section_id, bid.pseudonym, bid.cipher_hash, bid.clear_commitment,
                                    bid.seal_hash, sealing.signals_hash_of(signals), self.now), self.t.centre)
            self.t.sealed[index], self.t.raw[index] = bid, signals
            self.m.owners.append(bidder)
            self.m.states.append("none")

        @precondition(lambda self: self.m.phase == "bidding" and self.now <= self.m.deadline + SEAL_WINDOW)
        @rule(offset=st.sampled_from([0, 1, SEAL_WINDOW, -100, SEAL_WINDOW + 2]))
        def seal(self, offset):
            """Seal at ``offset`` from the deadline (or now, if that has passed)."""
            self.now = max(self.now, self.m.deadline + offset - 2)
            t, m = self._tick(), self.m
            allowed = m.phase == "bidding" and m.deadline <= t <= m.deadline + SEAL_WINDOW
            if self._expect(allowed, self.t.seal) is not None:
                if len(m.owners) < MIN_BIDDERS:
                    m.phase, m.fail_reason = "failed", "fewer_than_min_bidders"
                else:
                    m.phase = "sealed"

        @precondition(lambda self: self.m.phase == "bidding" and self.now > self.m.deadline)
        @rule()
        def fail_unsealed(self):
            t, m = self._tick(), self.m
            allowed = m.phase == "bidding" and t > m.deadline + SEAL_WINDOW
            if self._expect(allowed, lambda: self.t.rules.fail_unsealed(self.t.admin, self.t.section_id)):
                m.phase, m.fail_reason = "failed", "not_sealed"

        @precondition(lambda self: self.m.phase == "sealed")
        @rule(holder=st.integers(0, 2))
        def release(self, holder):
            t, m = self._tick(), self.m
            allowed = m.in_opening(t) and holder not in m.released
            if self._expect(allowed, lambda: self.t.release(self.t.holders[holder])) is not None:
                m.released.add(holder)

        @precondition(lambda self: self.m.phase == "sealed")
        @rule(pick=st.integers(0, 50))
        def open_bid(self, pick):
            index = pick % len(self.m.owners)
            t, m = self._tick(), self.m
            bid = self.t.sealed[index]
            opening = self.t.opening_of(index, bid.file_key)
            allowed = m.in_opening(t) and m.states[index] == "none"
            call = lambda: self.t.rules.open_bid(self.t.centre, self.t.section_id, index,  # noqa: E731
                                                 self.t.box.entries[index], self.t.box.inclusion(index), opening)
            if self._expect(allowed, call) is None:
                return
            m.states[index] = "valid"
            bidder = m.owners[index]
            if bidder not in m.live:
                m.live[bidder] = index
                m.distinct += 1
            else:
                older, newer = sorted((m.live[bidder], index))
                m.states[older] = "replaced"
                m.live[bidder] = newer

        @precondition(lambda self: self.m.phase == "sealed")
        @rule()
        def open_the_rest(self):
            """The opening service opens every entry not yet settled (what it does at the deadline)."""
            for index, state in enumerate(self.m.states):
                if state == "none":
                    self.open_bid(index)

        @precondition(lambda self: self.m.phase == "sealed")
        @rule(pick=st.integers(0, 50))
        def mark_undecryptable(self, pick):
            index = pick % len(self.m.owners)
            t, m = self._tick(), self.m
            allowed = m.in_opening(t) and t >= m.deadline + GRACE // 2 and m.states[index] == "none"
            call = lambda: self.t.mark_undecryptable(index)  # noqa: E731
            if self._expect(allowed, call) is not None:
                m.states[index] = "revoked" if len(m.released) >= THRESHOLD else "withdrawn"
                m.distinct += 1

        @precondition(lambda self: self.m.phase in ("sealed", "evaluation"))
        @rule()
        def close(self):
            self._tick()
            m = self.m
            allowed = m.phase == "sealed" and "none" not in m.states
            if self._expect(allowed, lambda: self.t.rules.close_opening(self.t.centre, self.t.section_id)):
                m.close()

        @precondition(lambda self: self.m.phase == "sealed")
        @rule()
        def expire(self):
            t, m = self._tick(), self.m
            allowed = m.phase == "sealed" and t > m.deadline + GRACE
            if self._expect(allowed, lambda: self.t.rules.expire_opening(self.t.admin, self.t.section_id)):
                for i, state in enumerate(m.states):
                    if state == "none":
                        m.states[i] = "withdrawn"
                        m.distinct += 1
                m.close()

        @invariant()
        def chain_agrees_with_the_model(self):
            if not hasattr(self, "m"):
                return
            info = self.t.rules.section(self.t.section_id)
            assert (info.state, info.fail_reason) == (self.m.phase, self.m.fail_reason)
            if self.m.phase in ("bidding",) or (self.m.phase == "failed" and info.box_size < MIN_BIDDERS):
                return
            assert info.valid == self.m.valid
            assert info.released == len(self.m.released)
            assert [self.t.rules.bid(self.t.section_id, i)["state"] for i in range(len(self.m.states))] == self.m.states

    return TenderMachine


@pytest.mark.slow
def test_tender_rules_follow_the_model(chain, funded):
    """60 sequences of up to 30 steps on the embedded EVM (about a minute), 30 on anvil; each
    path — sealed, failed either way, opened, replaced, revoked, withdrawn, closed, expired —
    is reached (measured while writing this test), and a model mutant is caught."""
    tender = deploy_tender(chain, funded)
    examples = 60 if chain.kind == "embedded" else 30
    run_state_machine_as_test(machine(tender), settings=settings(
        max_examples=examples, stateful_step_count=30, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
