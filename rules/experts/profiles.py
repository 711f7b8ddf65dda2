"""Committee profiles (评标委员会的组成): how large a committee a draw must make, by trading type.

``profiles.json`` (format ``lianzheng-committee-profiles/1``) holds, per profile, each value with
its legal source::

    {"name": {"zh", "en"},
     "min_members": {"value": 5, "source"},          members = drawn experts + tenderer_reps
     "odd": {"value": true, "source"},               the committee has an odd number of members
     "experts_min_share": {"value": [2, 3], "source"},   experts >= 2/3 of the members
     "max_replacements": {"value": 6, "source"}}     alternates a draw may use (platform rule)

A profile marked ``not_legal`` (``demo``) is for tests and walkthroughs only. On chain a profile
is named by ``profile_id`` = keccak256 of its name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eth_utils import keccak

from lianzheng.rules.errors import RosterError

PROFILES_FORMAT = "lianzheng-committee-profiles/1"


def profile_id(name: str) -> bytes:
    """A committee profile's bytes32 id on chain."""
    return keccak(text=name)


@dataclass(frozen=True)
class CommitteeProfile:
    name: str
    min_members: int
    odd: bool
    experts_min_share: tuple[int, int]  # (numerator, denominator)
    max_replacements: int

    @property
    def profile_id(self) -> bytes:
        return profile_id(self.name)


@cache
def _profiles() -> tuple[CommitteeProfile, ...]:
    data = json.loads((resources.files("lianzheng.rules.experts") / "profiles.json").read_text(encoding="utf-8"))
    if data.get("format") != PROFILES_FORMAT:
        raise RosterError(f"rules/experts/profiles.json: not {PROFILES_FORMAT}")
    return tuple(
        CommitteeProfile(name, p["min_members"]["value"], p["odd"]["value"],
                         tuple(p["experts_min_share"]["value"]), p["max_replacements"]["value"])
        for name, p in data["profiles"].items())


def load_committee_profiles() -> dict[str, CommitteeProfile]:
    """The committee profiles of ``profiles.json`` by name."""
    return {p.name: p for p in _profiles()}


def check_committee(profile: CommitteeProfile, experts: int, tenderer_reps: int) -> None:
    """Raise RosterError, with a one-line reason, unless ``experts`` drawn experts and
    ``tenderer_reps`` representatives of the tenderer make a committee ``profile`` allows."""
    members = experts + tenderer_reps
    num, den = profile.experts_min_share
    what = (f"profile {profile.name!r}: a committee of {members} "
            f"({experts} experts + {tenderer_reps} tenderer representatives)")
    if members < profile.min_members:
        raise RosterError(f"{what} has fewer than {profile.min_members} members")
    if profile.odd and members % 2 == 0:
        raise RosterError(f"{what} must have an odd number of members")
    if experts * den < num * members:
        raise RosterError(f"{what} needs experts to be at least {num}/{den} of the members")
