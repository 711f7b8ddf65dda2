"""One error family for everything the verifying side can reject.

Every subclass says what was wrong and keeps the values that show it, so that a
CLI or a web page can print a precise reason (house style: errors carry evidence).
"""
from __future__ import annotations


class VerificationError(Exception):
    """Root of every verification failure. ``code`` is stable and machine-readable."""

    code = "verification_failed"

    def __init__(self, message: str, **evidence: object) -> None:
        super().__init__(message)
        self.evidence = evidence


class MalformedError(VerificationError):
    """An input (receipt, proof, checkpoint, event) cannot even be parsed."""

    code = "malformed"


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not hold."""

    code = "proof_invalid"


class RootMismatchError(ProofError):
    """A proof recomputes a root different from the one it should reach."""

    code = "root_mismatch"

    def __init__(self, size: int, computed: bytes, expected: bytes, what: str = "root") -> None:
        super().__init__(
            f"{what} mismatch at tree size {size}: computed {computed.hex()}, expected {expected.hex()}",
            size=size,
            computed=computed.hex(),
            expected=expected.hex(),
        )
        self.size, self.computed, self.expected = size, computed, expected


class EventMismatchError(VerificationError):
    """The event or document held by the user is not the one the receipt commits to."""

    code = "event_mismatch"


class SignatureError(VerificationError):
    """A checkpoint signature is missing, malformed or does not verify with the registered key."""

    code = "signature_invalid"


class AnchorError(VerificationError):
    """The chain does not hold the anchor the receipt claims (wrong chain, size, root, tx)."""

    code = "anchor_invalid"


class PendingError(VerificationError):
    """The receipt is not anchored yet: there is nothing on chain to check it against."""

    code = "pending"
