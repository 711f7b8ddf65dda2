"""One error family per package under one root, and one table of HTTP statuses."""
from __future__ import annotations

import alliance.errors
import chain_node.errors
import contracts.build
import notary.errors
import rules.errors
import sdk.errors
from notary.api.errors import STATUS, status_of
from sdk.errors import LianzhengError


def _family(root: type) -> set[type]:
    seen, todo = set(), [root]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_package_family_hangs_under_the_root():
    for root in (sdk.errors.VerificationError, sdk.errors.NotaryClientError, chain_node.errors.ChainError,
                 notary.errors.NotaryError, rules.errors.RuleError, alliance.errors.AllianceError,
                 contracts.build.CompileError):
        assert issubclass(root, LianzhengError), root


def test_every_error_the_api_can_raise_has_a_status_of_its_own():
    for root in (notary.errors.NotaryError, chain_node.errors.ChainError, rules.errors.RuleError,
                 sdk.errors.VerificationError):
        for cls in _family(root):
            # found through the class or an ancestor below the family's root, never the catch-all
            assert any(c in STATUS for c in cls.__mro__[: cls.__mro__.index(root) + 1]), cls
            assert cls.code and cls.code != LianzhengError.code, cls


def test_statuses_are_what_callers_rely_on():
    e = notary.errors
    assert status_of(e.ReservedType("x")) == 403 and status_of(e.RateLimited("c", 1.0)) == 429
    assert status_of(e.StoreOutdated("x")) == 503 and status_of(chain_node.errors.ChainUnavailable("x")) == 503
    assert status_of(chain_node.errors.InvalidTransaction("x")) == 422
    assert status_of(rules.errors.RuleRejected("BidDeadlinePassed()")) == 422
