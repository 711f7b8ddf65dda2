"""An ExpertDraw on a chain for the tests: a tender section whose bids are opened, the roles, a registry."""
from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account

from lianzheng.rules.experts.draw import ExpertDraw
from lianzheng.rules.experts.escrow import Dealing
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.registry import Registry
from lianzheng.rules.tender.crypto import new_holder_key
from lianzheng.rules.tender.sealing import bidder_id_of
from tests.rules.experts_data import AS_OF, SECRET, plan, random_roster
from tests.rules.tender_flow import REGION, Tender, deploy_tender

BIDDER_CODES = tuple(f"91370000MA{i:08d}" for i in range(4))  # the credit codes deploy_tender's bidders use


@dataclass
class Party:
    account: object
    x25519: object

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class World:
    draws: ExpertDraw
    tender: Tender
    admin: object
    centre: Party
    supervisor: Party
    independent: Party
    registrar: object
    funded: object
    registry: Registry | None = None
    parties: list[Party] = field(default_factory=list)

    @property
    def chain(self):
        return self.draws.chain

    def party(self, role: str | None) -> Party:
        """A fresh seed party with an X25519 key, holding ``role`` (centre, supervisor, independent, or none)."""
        p = Party(self.funded(), new_holder_key())
        if role == "centre":
            self.draws.grant_centre(self.admin, REGION, p.address)
        elif role == "supervisor":
            self.draws.grant_supervisor(self.admin, REGION, p.address)
        elif role == "independent":
            self.draws.grant_independent(self.admin, p.address)
        self.draws.set_party_key(p.account, p.x25519)
        return p

    def opened_section(self) -> tuple[str, str]:
        """A fresh tender section with three bids opened and the opening closed: (project, section)."""
        t = self.tender
        t.open(deadline_in=60)
        for b in t.bidders[:3]:
            t.submit(b)
        t.at_deadline()
        t.seal()
        released = [t.release(h) for h in t.holders[:2]]
        for i in range(3):
            t.open_bid(i, released)
        t.rules.close_opening(t.centre, t.section_id)
        subject = t.rules._subject(t.section_id)
        return subject.project, subject.section

    def plan_for(self, project: str, section: str, **changes):
        return plan(region=str(REGION), project=project, section=section, **changes)

    def anchor(self, roster=None, province: str = "37", registrar=None) -> Registry:
        self.registry = Registry.build(roster or random_roster(120, seed=7), province, AS_OF, SECRET)
        self.draws.anchor_registry(registrar or self.registrar, self.registry)
        return self.registry

    def create(self, parties: list[Party] | None = None, window: int = 600, commit: bool = True, **plan_changes):
        """A planned draw with Shandong's pools committed: (draw_id, pool)."""
        if self.registry is None:
            self.anchor()  # anchored before the section's bids are even opened
        project, section = self.opened_section()
        the_plan = self.plan_for(project, section, **plan_changes)
        self.parties = parties or [self.centre, self.supervisor, self.independent]
        draw_id = self.draws.create(self.centre.account, the_plan, [p.address for p in self.parties], window)
        section_id = self.draws.draw(draw_id).section_id
        pool = Pool.build(self.registry, self.draws.plan_for_draw(draw_id, the_plan), self.draws.bidders(section_id))
        if not commit or any(s.province != "37" for s in the_plan.strata):
            return draw_id, pool
        self.draws.commit_pools(self.centre.account, draw_id, pool)
        return draw_id, pool

    def commit_all(self, draw_id: bytes) -> list[Dealing]:
        return [self.draws.commit_seed(p.account, draw_id) for p in self.parties]

    def acknowledge_all(self, draw_id: bytes) -> None:
        for p in self.parties:
            assert self.draws.acknowledge(p.account, p.x25519, draw_id) is None

    def reveal_all(self, draw_id: bytes, dealings: list[Dealing], skip: tuple[int, ...] = ()) -> None:
        for i, (p, d) in enumerate(zip(self.parties, dealings)):
            if i not in skip:
                self.draws.reveal_seed(p.account, draw_id, d.secret)

    def after(self, seconds: int) -> None:
        self.chain.set_next_block_time(self.chain.block_time() + seconds)


def make_world(chain, funded, notary=None) -> World:
    tender = deploy_tender(chain, funded)
    admin = funded()
    draws = ExpertDraw.deploy(chain, admin, notary, tender=tender.rules.address)
    centre_account = tender.centre  # the trading centre of the tender is the draw's host centre
    draws.grant_centre(admin, REGION, centre_account.address)
    registrar = funded()
    draws.grant_registrar(admin, 37, registrar.address)
    world = World(draws, tender, admin, Party(centre_account, new_holder_key()), None, None, registrar, funded)
    draws.set_party_key(centre_account, world.centre.x25519)
    world.supervisor = world.party("supervisor")
    world.independent = world.party("independent")
    return world


def outsider() -> object:
    return Account.create()


BIDDER_IDS_ON_CHAIN = tuple(sorted(bidder_id_of(c) for c in BIDDER_CODES[:3]))
