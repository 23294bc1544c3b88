"""The catalog's refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class RewardNotFoundError(NotFoundError):
    code = "reward_not_found"


class CauseNotFoundError(NotFoundError):
    code = "cause_not_found"


class InvalidRewardError(InvalidInputError):
    code = "invalid_reward"


class UnknownTierError(InvalidInputError):
    code = "unknown_tier"


class StockBelowClaimedError(ConflictError):
    code = "stock_below_claimed"


class CauseInUseError(ConflictError):
    code = "cause_in_use"
