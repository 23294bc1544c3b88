"""The refusals of challenges, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class ChallengeNotFoundError(NotFoundError):
    code = "challenge_not_found"


class InvalidChallengeError(InvalidInputError):
    """A definition that does not hold together; `details.field` says where."""

    code = "invalid_challenge"


class InvalidWindowError(InvalidInputError):
    code = "invalid_window"


class UnknownBadgeError(InvalidInputError):
    code = "unknown_badge"


class UnknownRewardError(InvalidInputError):
    code = "unknown_reward"


class UnknownTierError(InvalidInputError):
    code = "unknown_tier"


class NotEligibleError(ConflictError):
    code = "not_eligible"


class ChallengeClosedError(ConflictError):
    code = "challenge_closed"
