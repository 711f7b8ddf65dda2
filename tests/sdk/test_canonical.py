"""Our fast JCS path against the reference rfc8785 implementation, on generated JSON."""
from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from lianzheng.sdk.canonical import canonical_json, is_simple

scalars = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text() | \
    st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_matches_rfc8785_on_any_json(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [
    {"b": 1, "a": "\u0000\u001f\"\\/\u007f\u2028"},
    {"\U0001f600": 1, "\ufb01": 2},        # key order by UTF-16 code units, not code points
    {"n": 1e21, "m": -0.0, "k": 5e-324},  # ECMAScript number forms
    {"投标": "文件", "zh": "招标公告"},
    [2**53 - 1, -(2**53 - 1)],
])
def test_edge_cases_match_rfc8785(value):
    assert canonical_json(value) == rfc8785.dumps(value)


def test_out_of_range_integers_and_lone_surrogates_are_refused():
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical_json({"n": 2**53})
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical_json({"s": "\ud800"})


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_the_one_pass_inspection_agrees_with_the_checks_it_replaces(value):
    """``event._inspect`` (the hot path) refuses exactly what ``event._strict`` refuses, and calls
    simple exactly what ``is_simple`` does — so ``known_simple`` never skips a needed check."""
    from lianzheng.sdk.errors import MalformedError
    from lianzheng.sdk.event import _inspect, _strict

    try:
        _strict(value, "v")
        refused = False
    except MalformedError:
        refused = True
    simple = _inspect(value)
    assert (simple is None) == refused
    if not refused:
        assert simple == is_simple(value)
        if simple:
            assert canonical_json(value, known_simple=True) == rfc8785.dumps(value)
