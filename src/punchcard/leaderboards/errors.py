"""The refusals of leaderboards, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class LeaderboardNotFoundError(NotFoundError):
    code = "leaderboard_not_found"


class UnknownChallengeError(InvalidInputError):
    """A challenge board names a challenge the program does not have."""

    code = "unknown_challenge"


class InvalidLeaderboardError(InvalidInputError):
    code = "invalid_leaderboard"


class InvalidPeriodError(InvalidInputError):
    code = "invalid_period"


class DisplayNameInvalidError(InvalidInputError):
    code = "display_name_invalid"


class DisplayNameRequiredError(InvalidInputError):
    code = "display_name_required"


class NotRebuildableError(ConflictError):
    code = "not_rebuildable"
