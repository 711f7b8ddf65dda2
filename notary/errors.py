"""The notary's error family. Only the HTTP layer and the CLI turn these into statuses."""
from __future__ import annotations


class NotaryError(Exception):
    """Root of every error the notary reports to a caller. ``code`` is stable."""

    code = "notary_error"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class InvalidEvent(NotaryError):
    code, status = "invalid_event", 422


class WrongRegion(NotaryError):
    code, status = "wrong_region", 422


class BatchTooLarge(NotaryError):
    code, status = "batch_too_large", 413


class IdConflict(NotaryError):
    code, status = "id_conflict", 409


class NotFound(NotaryError):
    code, status = "not_found", 404


class BadRange(NotaryError):
    code, status = "bad_range", 400


class Unauthenticated(NotaryError):
    code, status = "unauthenticated", 401


class Forbidden(NotaryError):
    code, status = "forbidden", 403


class ReservedType(NotaryError):
    """A writer key sent an event type only the rules engine may write."""

    code, status = "reserved_type", 403


class Unavailable(NotaryError):
    """Storage or chain is down: the caller should retry (503 + Retry-After)."""

    code, status = "unavailable", 503


class StoreOutdated(NotaryError):
    """The data directory was written by an older, incompatible version."""

    code, status = "store_outdated", 503


class Ambiguous(NotaryError):
    code, status = "ambiguous", 409


class NotAnchored(NotaryError):
    """What was asked for holds events not anchored yet: retry after the next anchor."""

    code, status = "not_anchored", 409
