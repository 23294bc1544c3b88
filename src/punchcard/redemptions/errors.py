"""The refusals of redemptions and checkout, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError, PunchcardError


class RewardNotFoundError(NotFoundError):
    code = "reward_not_found"


class RedemptionNotFoundError(NotFoundError):
    code = "redemption_not_found"


class OutOfStockError(ConflictError):
    code = "out_of_stock"


class RewardMisconfiguredError(ConflictError):
    """A reward whose value or cause cannot be turned into a benefit; nothing was spent."""

    code = "reward_misconfigured"


class NotCancellableError(ConflictError):
    code = "not_cancellable"


class CodeInvalidError(ConflictError):
    """Unknown, expired and cancelled codes get this one answer, so that the API tells an
    attacker nothing about which codes exist."""

    code = "code_invalid"

    def __init__(self) -> None:
        super().__init__("this code is not valid")


class CodeUsedError(ConflictError):
    code = "code_used"


class PointsPaymentOffError(ConflictError):
    code = "points_payment_off"


class PointsOrAmountError(InvalidInputError):
    code = "points_or_amount"


class StoredResponseUnreadableError(ConflictError):
    code = "idempotent_response_unreadable"


class SecretKeyUnusableError(PunchcardError):
    """The server's secret key is too short or its key file cannot be read or written: an
    operator's mistake, answered with a message that says what to fix, not a bare 500."""

    status = 503
    code = "secret_key_unusable"
