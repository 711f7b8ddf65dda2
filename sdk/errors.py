"""The root of every Lianzheng error, and the family of what the verifying side rejects.

Each package has one family under ``LianzhengError``: ``VerificationError`` and
``NotaryClientError`` here, ``ChainError`` (chain_node), ``NotaryError`` (notary),
``RuleError`` (rules), ``AllianceError`` (alliance), ``CompileError`` (contracts). Every
error says what was wrong and keeps the values that show it (``evidence``), so that a CLI or
a web page can print a precise reason; ``code`` is stable and machine-readable. Only the CLI
and the HTTP layer turn them into exit codes and statuses.
"""
from __future__ import annotations

from typing import Any


class LianzhengError(Exception):
    """Root of every error the project raises on purpose."""

    code = "error"

    def __init__(self, message: str, **evidence: object) -> None:
        super().__init__(message)
        self.evidence = evidence


class VerificationError(LianzhengError):
    """Root of every verification failure."""

    code = "verification_failed"


class MalformedError(VerificationError):
    """An input (receipt, proof, checkpoint, event) cannot even be parsed."""

    code = "malformed"


def first_invalid(exc: Any, what: str, whole: str, **evidence: Any) -> MalformedError:
    """A pydantic ``ValidationError`` as one ``MalformedError``: ``<what>: <field path>: <why>`` of its
    first complaint (``whole`` names the input itself when the complaint is about all of it)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or whole
    return MalformedError(f"{what}: {where}: {first['msg']}", field=where, **evidence)


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


class NotaryClientError(LianzhengError):
    """The notary refused a request: ``status`` is the HTTP status, ``code`` the notary's stable code."""

    code = "notary_refused"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}", status=status, code=code)
        self.status, self.code, self.message = status, code, message


class CosignatureThresholdError(VerificationError):
    """Fewer than ``threshold`` of the listed alliance members cosigned the receipt's checkpoint."""

    code = "cosignatures_below_threshold"

    def __init__(self, counted: int, threshold: int, listed: int, signers: tuple[str, ...],
                 refused: list[str]) -> None:
        who = f" ({', '.join(signers)})" if signers else ""
        why = f"; not counted: {'; '.join(refused)}" if refused else ""
        super().__init__(f"{counted} of {listed} listed members cosigned this checkpoint{who}, threshold {threshold}"
                         f"{why}", counted=counted, threshold=threshold, listed=listed, signers=list(signers),
                         refused=refused)
        self.counted, self.threshold, self.listed = counted, threshold, listed
