"""The ledger's refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import (
    ConflictError,
    InsufficientPointsError,
    InvalidInputError,
    NotFoundError,
)

__all__ = [
    "AlreadyReversedError",
    "DebtOutstandingError",
    "InsufficientPointsError",
    "InvalidPointsError",
    "MemberNotFoundError",
    "NotReversibleError",
    "ReversalTooLargeError",
    "TransactionNotFoundError",
]


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"


class TransactionNotFoundError(NotFoundError):
    code = "transaction_not_found"


class InvalidPointsError(InvalidInputError):
    code = "invalid_points"


class DebtOutstandingError(ConflictError):
    code = "debt_outstanding"


class NotReversibleError(ConflictError):
    code = "not_reversible"


class AlreadyReversedError(ConflictError):
    code = "already_reversed"


class ReversalTooLargeError(InvalidInputError):
    code = "reversal_exceeds_original"
