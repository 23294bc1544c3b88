"""The badges' refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class BadgeNotFoundError(NotFoundError):
    code = "badge_not_found"


class InvalidBadgeError(InvalidInputError):
    code = "invalid_badge"


class UnknownTierError(InvalidInputError):
    code = "unknown_tier"


class BadgeInactiveError(ConflictError):
    code = "badge_inactive"
