"""Errors of the alliance side: the local alliance, relayers and mirrors."""
from __future__ import annotations

from lianzheng.sdk.errors import LianzhengError


class AllianceError(LianzhengError):
    """Root of the alliance's errors: e.g. the local alliance cannot be started or read."""

    code = "alliance_error"


class MirrorError(AllianceError):
    """The source cannot be mirrored as it is: a tampered entry (``index``) or a forked log."""

    code = "mirror_refused"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message, index=index)
        self.index = index


class NoTiles(MirrorError):
    """Tiles were asked for, and the source serves none (no ``/checkpoint``): a use error, not a
    tampered log."""
