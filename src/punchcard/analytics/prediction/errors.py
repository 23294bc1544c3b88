"""Why a prediction could not be made, in words a merchant understands.

A `PredictionInputError` is a `ValueError` (the math refuses its input) and also the project's
`InvalidInputError`, so the API renders it as a 422 with its stable `code` without a mapping.
"""

from __future__ import annotations

from punchcard.errors import InvalidInputError

NO_ORDERS = "no_orders"
TOO_FEW_CUSTOMERS = "too_few_customers"
NO_REPEAT_PURCHASES = "no_repeat_purchases"
SINGLE_DAY = "single_day"
FIT_FAILED = "fit_failed"
TOO_FEW_REPEAT_CUSTOMERS = "too_few_repeat_customers"
BAD_HOLDOUT = "bad_holdout"
INVALID_VALUE = "invalid_value"

CODES = (
    NO_ORDERS,
    TOO_FEW_CUSTOMERS,
    NO_REPEAT_PURCHASES,
    SINGLE_DAY,
    FIT_FAILED,
    TOO_FEW_REPEAT_CUSTOMERS,
    BAD_HOLDOUT,
    INVALID_VALUE,
)


class PredictionInputError(InvalidInputError, ValueError):
    """The order history cannot support the model; `message` says why and what would help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.code: str = code
        self.message: str = message
