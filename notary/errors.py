"""The notary's error family: every error the notary reports, in one place.

Each says what was wrong (``code`` is stable) and keeps its evidence (``details``). Which
HTTP status each becomes is decided in one table, ``notary.api.errors.STATUS``; the CLI
prints them in one line.
"""
from __future__ import annotations

from lianzheng.sdk.errors import LianzhengError


class NotaryError(LianzhengError):
    """Root of every error the notary reports to a caller."""

    code = "notary_error"

    @property
    def details(self) -> dict[str, object]:
        return self.evidence


# --- the caller's request ---------------------------------------------------------------

class InvalidEvent(NotaryError):
    code = "invalid_event"


class WrongRegion(NotaryError):
    code = "wrong_region"


class BatchTooLarge(NotaryError):
    code = "batch_too_large"


class BodyTooLarge(NotaryError):
    code = "body_too_large"


class ClientGone(NotaryError):
    """The client closed its connection before its request arrived whole (nothing was logged)."""

    code = "client_closed"


class InvalidJson(NotaryError):
    code = "invalid_json"


class BadRange(NotaryError):
    code = "bad_range"


class IdConflict(NotaryError):
    code = "id_conflict"


class DuplicateEventId(IdConflict):
    """The store holds an event id already (the log then looks the ids up and answers for each)."""

    code = "duplicate_event_id"


class NotFound(NotaryError):
    code = "not_found"


class Ambiguous(NotaryError):
    code = "ambiguous"


class NotAnchored(NotaryError):
    """What was asked for holds events not anchored yet: retry after the next anchor."""

    code = "not_anchored"


class WrongState(NotaryError):
    """The step does not fit what the section (or draw) is in now."""

    code = "wrong_state"


class KeyNameError(InvalidEvent):
    """A key's name or role is not acceptable."""

    code = "invalid_key_name"


class CosignatureRefused(NotaryError):
    """An alliance member's cosignature the notary will not hold (``POST /v1/cosignatures``)."""

    code = "cosignature_refused"


class CosignatureUnanchored(CosignatureRefused):
    """The cosignature is for a tree size this notary never anchored (or not yet confirmed)."""

    code = "cosignature_unanchored"


class CosignatureMismatch(CosignatureRefused):
    """The cosigned root is not the one this notary anchored at that size."""

    code = "cosignature_mismatch"


class CosignatureInvalid(CosignatureRefused):
    """The signature does not recover to the member over this notary's own anchored checkpoint."""

    code = "cosignature_invalid"


class CosignaturesFull(CosignatureRefused):
    """The notary holds as many cosignatures for that size (per relay, or relays) as it keeps."""

    code = "cosignatures_full"


# --- who the caller is --------------------------------------------------------------------

class Unauthenticated(NotaryError):
    code = "unauthenticated"


class Forbidden(NotaryError):
    code = "forbidden"


class ReservedType(Forbidden):
    """A writer key sent an event type only the rules engine may write."""

    code = "reserved_type"


class RateLimited(NotaryError):
    """A caller is over its budget; ``retry_after`` seconds until it may try again."""

    code = "rate_limited"

    def __init__(self, caller: str, retry_after: float, what: str = "request rate") -> None:
        super().__init__(f"{caller!r} is over its {what}; retry in {retry_after:.2f} s",
                         retry_after=round(retry_after, 3))
        self.retry_after = retry_after


class TooManyInFlight(RateLimited):
    code = "too_many_in_flight"


# --- the notary itself --------------------------------------------------------------------

class Unavailable(NotaryError):
    """Storage or chain is down: the caller should retry."""

    code = "unavailable"


class StoreOutdated(Unavailable):
    """The data directory was written by an older, incompatible version."""

    code = "store_outdated"


class SetupError(NotaryError):
    """The notary cannot start: its data dir, chain and registry disagree, or it may not anchor."""

    code = "setup_failed"


class NotSequencer(NotaryError):
    """Asked of a process that is not the log's sequencer (the one that anchors)."""

    code = "not_sequencer"


class AnchorRefused(NotaryError):
    """The registry reverted an anchor (e.g. a data dir whose log forked from what is anchored)."""

    code = "anchor_refused"
