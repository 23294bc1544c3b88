"""Every error a caller can cause has a stable machine-readable code and a clear message."""

from __future__ import annotations

from typing import Any


class PunchcardError(Exception):
    """Base of all expected failures; rendered as {"error": {code, message, details}}."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = details or {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInputError(PunchcardError):
    status = 422
    code = "invalid_value"


class NotFoundError(PunchcardError):
    status = 404
    code = "not_found"


class ConflictError(PunchcardError):
    status = 409
    code = "conflict"


class InsufficientPointsError(ConflictError):
    code = "insufficient_points"


class AuthError(PunchcardError):
    status = 401
    code = "unauthenticated"


class ForbiddenError(PunchcardError):
    status = 403
    code = "insufficient_scope"


class SchemaOutOfDateError(PunchcardError):
    status = 503
    code = "schema_out_of_date"
