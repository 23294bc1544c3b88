"""Social sharing's refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class SharingInactiveError(ConflictError):
    code = "sharing_inactive"


class PlatformNotAllowedError(InvalidInputError):
    code = "platform_not_allowed"


class TargetUrlRequiredError(InvalidInputError):
    code = "target_url_required"


class TargetUrlNotAllowedError(InvalidInputError):
    code = "target_url_not_allowed"


class ShareNotFoundError(NotFoundError):
    code = "share_not_found"
