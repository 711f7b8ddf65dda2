"""One error family per package under one root, and one table of HTTP statuses."""
from __future__ import annotations

import lianzheng.alliance.errors
import lianzheng.chain_node.errors
import lianzheng.contracts.build
import lianzheng.notary.errors
import lianzheng.rules.errors
import lianzheng.sdk.errors
from lianzheng.notary.api.errors import STATUS, status_of
from lianzheng.sdk.errors import LianzhengError


def _family(root: type) -> set[type]:
    seen, todo = set(), [root]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_package_family_hangs_under_the_root():
    for root in (lianzheng.sdk.errors.VerificationError, lianzheng.sdk.errors.NotaryClientError,
                 lianzheng.chain_node.errors.ChainError,
                 lianzheng.notary.errors.NotaryError, lianzheng.rules.errors.RuleError,
                 lianzheng.alliance.errors.AllianceError, lianzheng.contracts.build.CompileError):
        assert issubclass(root, LianzhengError), root


def test_every_error_the_api_can_raise_has_a_status_of_its_own():
    for root in (lianzheng.notary.errors.NotaryError, lianzheng.chain_node.errors.ChainError,
                 lianzheng.rules.errors.RuleError, lianzheng.sdk.errors.VerificationError):
        for cls in _family(root):
            # found through the class or an ancestor below the family's root, never the catch-all
            assert any(c in STATUS for c in cls.__mro__[: cls.__mro__.index(root) + 1]), cls
            assert cls.code and cls.code != LianzhengError.code, cls


def test_statuses_are_what_callers_rely_on():
    e = lianzheng.notary.errors
    assert status_of(e.ReservedType("x")) == 403 and status_of(e.RateLimited("c", 1.0)) == 429
    assert (status_of(e.StoreOutdated("x")) == 503
            and status_of(lianzheng.chain_node.errors.ChainUnavailable("x")) == 503)
    assert status_of(lianzheng.chain_node.errors.InvalidTransaction("x")) == 422
    assert status_of(lianzheng.rules.errors.RuleRejected("BidDeadlinePassed()")) == 422
