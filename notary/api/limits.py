"""Per-client limits of the public surface (reads, chain RPC, certificates, cosignatures) and the
security headers every answer carries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fastapi import Request

from lianzheng.notary.api.clients import Network, client_address, parse_networks
from lianzheng.notary.services.ratelimit import InFlightLimit, RateLimited, RateLimiter
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
    def from_settings(cls, settings: Settings,
                      refused: Callable[[str], Callable[[], None]] | None = None) -> "ClientLimits":
        """The limits of ``settings``; ``refused(kind)`` gives what each limit calls when it refuses
        (``/metrics`` counts them by kind, the field's name)."""
        n = settings.workers  # each worker process of `serve --workers N` holds 1/N of every limit
        limits = cls(
            proxies=parse_networks(settings.trusted_proxies),
            reads=RateLimiter.share(settings.read_rate, workers=n),
            tiles=RateLimiter.share(settings.tile_rate, workers=n),
            rpc=RateLimiter.share(settings.rpc_rate, workers=n),
            rpc_in_flight=InFlightLimit(settings.rpc_in_flight, workers=n),
            certificates=RateLimiter.share(2.0, burst=10, workers=n),  # a PDF costs ~10-100 ms of CPU
            relayed=RateLimiter.share(2.0, burst=20, workers=n),  # a relayed transaction mines a block
            # an ecrecover and a write; a relayer catching up
            cosignatures=RateLimiter.share(20.0, burst=100, workers=n),
        )
        if refused is not None:
            for kind in ("reads", "tiles", "rpc", "rpc_in_flight", "certificates", "relayed", "cosignatures"):
                setattr(limits, kind, CountedLimit(getattr(limits, kind), refused(kind)))
        return limits

    def client(self, request: Request) -> str:
        return client_address(request, self.proxies)


class CountedLimit:
    """A ``RateLimiter`` or ``InFlightLimit`` whose refusals are counted: ``refused()`` runs before
    each ``RateLimited`` goes on (one call more per request, none on the refusal's way out)."""

    def __init__(self, limit: RateLimiter | InFlightLimit, refused: Callable[[], None]) -> None:
        self.limit, self.refused = limit, refused

    def take(self, caller: str, cost: float = 1.0) -> None:
        try:
            self.limit.take(caller, cost)  # type: ignore[union-attr]
        except RateLimited:
            self.refused()
            raise

    def enter(self, caller: str) -> None:
        try:
            self.limit.enter(caller)  # type: ignore[union-attr]
        except RateLimited:
            self.refused()
            raise

    def __getattr__(self, name: str):  # leave(), rate, burst, len() ...: the limit's own
        return getattr(self.limit, name)

    def __setattr__(self, name: str, value) -> None:  # setting rate or burst sets the limit's own
        if name in ("limit", "refused"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.limit, name, value)

    def __len__(self) -> int:
        return len(self.limit)  # type: ignore[arg-type]


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
