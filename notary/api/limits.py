"""Per-client limits of the public surface (reads, chain RPC, certificates, cosignatures) and the
security headers every answer carries."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from lianzheng.notary.api.clients import Network, client_address, parse_networks
from lianzheng.notary.services.ratelimit import InFlightLimit, RateLimiter
from lianzheng.notary.settings import Settings


@dataclass
class ClientLimits:
    proxies: tuple[Network, ...]
    reads: RateLimiter
    tiles: RateLimiter
    rpc: RateLimiter
    rpc_in_flight: InFlightLimit
    certificates: RateLimiter
    relayed: RateLimiter
    cosignatures: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> "ClientLimits":
        return cls(
            proxies=parse_networks(settings.trusted_proxies),
            reads=RateLimiter(settings.read_rate),
            tiles=RateLimiter(settings.tile_rate),
            rpc=RateLimiter(settings.rpc_rate),
            rpc_in_flight=InFlightLimit(settings.rpc_in_flight),
            certificates=RateLimiter(2.0, burst=10),  # a PDF costs ~10-100 ms of CPU
            relayed=RateLimiter(2.0, burst=20),  # a relayed transaction mines a block
            cosignatures=RateLimiter(20.0, burst=100),  # an ecrecover and a write; a relayer catching up
        )

    def client(self, request: Request) -> str:
        return client_address(request, self.proxies)


def get_limits(request: Request) -> ClientLimits:
    return request.app.state.limits


def limit_reads(request: Request) -> None:
    """A dependency: one read of the calling client's budget (429 beyond it)."""
    limits = get_limits(request)
    limits.reads.take(f"reads from {limits.client(request)}")


def limit_tiles(request: Request) -> None:
    """A dependency: one tile (or entry bundle, or checkpoint) of the calling client's budget."""
    limits = get_limits(request)
    limits.tiles.take(f"tile reads from {limits.client(request)}")


# The page fetches its scripts and styles from here only; it reads roots from whatever
# JSON-RPC node the witness enters, so connect-src allows any http(s) origin.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self' http: https:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
_COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"DENY")]
_PAGE = [*_COMMON, (b"content-security-policy", PAGE_CSP.encode())]
PAGE_HEADERS = _PAGE
_DOCS = _COMMON  # /docs sends its own policy: the page's inline script by hash (routes/docs.py)


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task, unlike BaseHTTPMiddleware): adds the headers."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _DOCS if scope["path"] == "/docs" else _PAGE

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
