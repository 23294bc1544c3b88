"""Every error leaves as {"error": {code, message, details}}; no stack trace ever does."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from punchcard.db import WriterBusyError
from punchcard.errors import PunchcardError

log = logging.getLogger("punchcard")

_HTTP_CODES = {
    400: "malformed_json",  # FastAPI's own 400: a body it cannot even decode (not UTF-8)
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _classify(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc", ()))
    if kind == "extra_forbidden":
        return "unknown_field"
    if kind == "missing":
        return "missing_field"
    if loc and loc[-1] == "points":
        return "invalid_points"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "wrong_type"
    return "validation_error"


def validation_response(exc: RequestValidationError) -> JSONResponse:
    status, body = validation_body(list(exc.errors()))
    return JSONResponse(body, status)


def validation_body(errors: list[Any]) -> tuple[int, dict[str, Any]]:
    """The status and error body for pydantic's errors, shared with batch items."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, _body("malformed_json", "the request body is not valid JSON")
    items = [
        {"field": _field(tuple(e.get("loc", ()))), "type": e.get("type"), "message": e.get("msg")}
        for e in errors
    ]
    first = items[0]
    message = f"{first['field']}: {first['message']}"
    if len(items) > 1:
        message += f" (and {len(items) - 1} more)"
    return 422, _body(_classify(errors[0]), message, {"errors": items})


def allowed_methods(request: Request) -> str:
    """Every method of the requested path, from the OpenAPI document ("" for paths outside
    it). Starlette's 405 names only the methods of the first route whose path matches, but
    several routes share a path here (GET and PATCH /v1/program...), and RFC 9110 wants all of
    the resource's methods in `Allow`."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.url.path):
            methods |= {m.upper() for m in item if m.upper() in _METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


# PostgreSQL's serialization failure and deadlock: the transaction was rolled back whole and
# a retry succeeds, so they are a conflict for the caller, not an outage.
_RETRYABLE = frozenset({"40001", "40P01"})


def install(app: FastAPI) -> None:
    @app.exception_handler(PunchcardError)
    async def _punchcard(_: Request, exc: PunchcardError) -> JSONResponse:
        return JSONResponse(exc.to_body(), exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = exc.headers
        if exc.status_code == 405 and (allowed := allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allowed}
        return JSONResponse(_body(code, str(exc.detail)), exc.status_code, headers=headers)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value of the request itself (PostgreSQL: text with a NUL
        # character, a number out of range): the caller's mistake, and nothing was written.
        log.info(
            "value refused by the database on %s %s: %s", request.method, request.url.path, exc.orig
        )
        return JSONResponse(
            _body(
                "validation_error",
                "a value of the request cannot be stored (text with a NUL character, "
                "or a number out of range)",
            ),
            422,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in _RETRYABLE:
            log.info("conflict on %s %s: %s", request.method, request.url.path, exc)
            return JSONResponse(
                _body(
                    "concurrent_write",
                    "another request changed the same members at the same moment; nothing of "
                    "this one was written: send it again",
                ),
                409,
            )
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            _body("database_unavailable", "the database is busy or not answering; retry later"),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(WriterBusyError)
    async def _busy(request: Request, exc: WriterBusyError) -> JSONResponse:
        # SQLite's one writer was busy for the whole busy timeout: a load the server does
        # not keep up with, not a fault; the client may send the same request again.
        log.warning("writer busy on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            _body("database_unavailable", "the database is busy with other writes; retry later"),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal_error", "an unexpected error occurred"), 500)
