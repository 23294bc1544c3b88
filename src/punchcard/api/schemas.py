"""Response and request pieces shared by all routes (plain pydantic: the path parameters,
which are FastAPI's, are in `api.params`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1  # ids are 64-bit in the database: a larger one cannot name anything


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["insufficient_points"])
    message: str = Field(examples=["500 points requested, 120 available"])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed JSON or a bad Idempotency-Key (`malformed_json`, `invalid_idempotency_key`)",
    401: "Missing or unknown API key (`unauthenticated`)",
    403: "The key lacks the scope this call needs (`insufficient_scope`)",
    404: "Unknown id, or one that belongs to another program (`*_not_found`)",
    409: "Conflict with the current state (`insufficient_points`, `idempotency_conflict`, ...)",
    422: "Invalid input (`validation_error`, `unknown_field`, `missing_field`, `wrong_type`, "
    "`invalid_points`, ...)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses a route can give."""
    wanted = sorted({401, 422, *statuses})
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in wanted}


class Page(BaseModel):
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )
