"""The referrals' refusals, each with its stable API code."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError


class ReferralNotFoundError(NotFoundError):
    code = "referral_not_found"


class InvalidTransitionError(ConflictError):
    code = "invalid_referral_transition"


class InvalidSettingsError(InvalidInputError):
    code = "invalid_referral_settings"


class NoSignalsError(InvalidInputError):
    code = "no_signals"
