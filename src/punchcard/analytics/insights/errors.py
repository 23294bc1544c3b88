"""Errors of the prediction service, each with the stable code the model's check gave."""

from __future__ import annotations

from punchcard.errors import ConflictError, InvalidInputError


class NotEnoughHistoryError(ConflictError):
    """The request was fine; the program's orders cannot support a fit yet (409)."""

    code = "not_enough_history"


class PredictionSettingsError(InvalidInputError):
    """A date or a parameter that makes no sense (422)."""
