"""Errors as HTTP answers: one table says which status each error becomes.

Every answer is ``{"code", "message", "details"?}`` with the error's stable ``code``; 429 and
503 carry ``Retry-After`` (the real wait when the error knows it). Anything unexpected is a
500 that says nothing was accepted unless a receipt was returned, and is logged.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lianzheng.chain_node.errors import ChainError, ChainUnavailable, InvalidTransaction, ReplicaBusy
from lianzheng.notary import errors as e
from lianzheng.notary.services.ratelimit import retry_after_header
from lianzheng.rules.errors import RuleError, RuleRejected
from lianzheng.sdk.contract import CallReverted
from lianzheng.sdk.errors import LianzhengError, VerificationError
from lianzheng.sdk.jsonrpc import RpcError, RpcUnreachable

log = logging.getLogger("lianzheng.api")
CHAIN_RETRY_SECONDS = 5  # a chain node that is down is not back within a second

# The one table: the first class in an error's MRO found here gives its status.
STATUS: dict[type[LianzhengError], int] = {
    e.InvalidEvent: 422, e.WrongRegion: 422, e.BatchTooLarge: 413, e.BodyTooLarge: 413, e.InvalidJson: 400,
    e.ClientGone: 400, e.NotSequencer: 409, e.BadRange: 400, e.CosignatureRefused: 422, e.IdConflict: 409,
    e.NotFound: 404, e.Ambiguous: 409, e.NotAnchored: 409, e.WrongState: 409,
    e.Unauthenticated: 401, e.Forbidden: 403, e.RateLimited: 429,
    e.Unavailable: 503, e.SetupError: 503, e.AnchorRefused: 503,
    InvalidTransaction: 422, ReplicaBusy: 503, ChainError: 503,
    RuleError: 422, VerificationError: 422, CallReverted: 422, RpcUnreachable: 503, RpcError: 503,
    e.NotaryError: 400,
}


def status_of(exc: LianzhengError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _answer(status: int, code: str, message: str, retry_after: float | None = None,
            details: object = None) -> JSONResponse:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    if status in (429, 503) and retry_after is None:
        retry_after = 1
    headers = {"Retry-After": retry_after_header(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def _retry_after(exc: LianzhengError, status: int) -> float | None:
    if isinstance(exc, (ChainError, RpcError, RpcUnreachable)) and status == 503:
        return CHAIN_RETRY_SECONDS
    retry = exc.evidence.get("retry_after")
    return float(retry) if isinstance(retry, (int, float)) else None


def _message(exc: LianzhengError) -> tuple[str, str, object]:
    """(code, message, details) a caller is shown."""
    if isinstance(exc, RuleRejected):
        return exc.code, f"the rule refused this step: {exc.reason}", {
            "reason": exc.reason, "error": exc.error_name, "tx_hash": exc.tx_hash}
    if isinstance(exc, ChainError) and not isinstance(exc, InvalidTransaction):
        code = exc.code if isinstance(exc, (ChainUnavailable, ReplicaBusy)) else "chain_unavailable"
        return code, f"the chain did not complete the step: {exc}; nothing was recorded for it", None
    details = exc.evidence if isinstance(exc, e.NotaryError) else None
    return exc.code, str(exc), details or None


def answer(exc: LianzhengError) -> JSONResponse:
    """The answer to a known error: its status from the table, its stable code, its evidence."""
    status = status_of(exc)
    if status == 503:
        log.warning("%s: %s", type(exc).__name__, exc)
    code, message, details = _message(exc)
    return _answer(status, code, message, _retry_after(exc, status), details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LianzhengError)
    async def known(_: Request, exc: LianzhengError) -> JSONResponse:
        return answer(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg"))} for err in exc.errors()]
        return _answer(422, "invalid_request", "request parameters are invalid", details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _answer(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return unexpected_answer()


def unexpected_answer() -> JSONResponse:
    """The answer to an error nobody foresaw (logged with its traceback: call it in the handler)."""
    log.exception("unexpected error")
    return _answer(500, "internal", "internal error; the event was not accepted unless a receipt was returned")
