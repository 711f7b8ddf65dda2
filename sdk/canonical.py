"""RFC 8785 (JCS) canonical JSON, fast for the values trading events hold.

For strings, booleans, null, integers within ±2**53 and objects whose keys are all ASCII,
``orjson`` with sorted keys produces exactly the JCS bytes (UTF-8, the same escapes,
lowercase \\u00xx for control characters, key order by code unit), several times faster. Anything else (floats,
larger integers, non-ASCII keys, lone surrogates) goes through the reference implementation, the ``rfc8785``
package. Both paths are tested against ``rfc8785`` on generated JSON.
"""
from __future__ import annotations

from typing import Any

import orjson
import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


def is_simple(value: Any) -> bool:
    """True when the fast encoder gives the JCS form of ``value``."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str or v is None or t is bool:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                continue
            return False
        if t is dict:
            for k in v:
                if type(k) is not str or not k.isascii():
                    return False
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        else:
            return False
    return True


def canonical_json(value: Any, *, known_simple: bool = False) -> bytes:
    """The RFC 8785 canonical bytes of ``value``; ``rfc8785.CanonicalizationError`` if it has none.

    ``known_simple``: the caller has established ``is_simple(value)`` (e.g. ``event.inspect_event``
    for an event and the forms made of its parts), so the check is not walked again."""
    if known_simple or is_simple(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: the reference implementation refuses it with its own error
    return rfc8785.dumps(value)
