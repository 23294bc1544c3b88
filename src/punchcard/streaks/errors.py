"""The streaks' refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import InvalidInputError, NotFoundError


class StreakNotFoundError(NotFoundError):
    code = "streak_not_found"


class InvalidStreakError(InvalidInputError):
    code = "invalid_streak"
