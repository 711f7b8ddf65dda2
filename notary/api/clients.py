"""Who is calling: the client address that per-client limits are keyed on.

The peer address of the TCP connection is the client, unless that peer is a reverse proxy
the operator named (``trusted_proxies``): then the client is the right-most address in
``X-Forwarded-For`` that is not itself a trusted proxy. A header from anyone else is
ignored, so rotating ``X-Forwarded-For`` cannot buy a fresh rate budget.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings validation imports this module: no web framework at import
    from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``127.0.0.1``, ``::1`` … as networks; ``ValueError`` names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"trusted proxy {entry!r} is not an IP address or CIDR network") from exc
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_address(request: Request, proxies: tuple[Network, ...]) -> str:
    """The address per-client limits count against (see the module docstring)."""
    peer = request.client.host if request.client else "unknown"
    return resolve_client(peer, request.headers.get("x-forwarded-for", "") if proxies else "", proxies)


def resolve_client(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client behind TCP peer ``peer`` given its ``X-Forwarded-For`` (module docstring)."""
    if not proxies or not _trusted(_address(peer), proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a malformed hop: do not guess past it
        if not _trusted(address, proxies):
            return str(address)
    return peer
