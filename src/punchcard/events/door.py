"""The express door: `POST /v1/events` answered before FastAPI's routing, when it can be.

On the busiest route, FastAPI's own work (matching the path against every route, resolving
the dependencies, validating the parameters and the body, wrapping the answer) cost more
Python per request than the express lane itself (docs/performance.md, item 11). This ASGI
middleware takes only the requests the express lane answers in one statement, and takes them
exactly as the route would: the same API-key cache and scopes, the same body model, the same
lane, the same bytes back. Everything else, and every request the door is unsure of, goes on
to FastAPI untouched (the body it read is handed on as it came), so every error, replay,
idempotency key, dry run and careful-path event is the route's own answer.

The door declines (and the route decides) when:
- the request is anything but a plain `POST /v1/events` with a JSON body and no query string,
  outside any `root_path` (a mounted app routes on the path below it: the route decides);
- it carries an `Idempotency-Key` (the route stores the response under it);
- the API key is not in this process's cache yet, or lacks a write scope (the route answers
  401 or 403, and caches the key for the next request);
- the body does not parse or validate (the route answers 400 or 422);
- the express lane does not take the event, or raises. After an exception the door marks the
  request (`EXPRESS_FAILED` in its state) and the route takes the careful path at once rather
  than the lane a second time: a lost race becomes the stored result, a database that is down
  a 503, without paying a pool's wait twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from punchcard.api.deps import WRITE, Caller
from punchcard.db import Database
from punchcard.errors import PunchcardError
from punchcard.events.endpoints import EXPRESS_FAILED, express_answer
from punchcard.events.schemas import EventIn
from punchcard.kit.hashing import sha256_hex

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/v1/events"
# A single event is a few kB; anything larger is the route's to take or refuse. FastAPI's own
# body-size limit is not configured in this application: if it ever is, below this figure,
# the door must apply it too.
MAX_BODY = 1_000_000

log = logging.getLogger("punchcard")


class ExpressDoor:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _candidate(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read(receive)
        answer = None
        if body is not None:
            try:
                answer = await _try(scope, body)
            except Exception as exc:  # the route runs the careful path and answers
                if isinstance(exc, PunchcardError | DBAPIError):  # a lost race; database down
                    log.info("express door: %s; the route answers", type(exc).__name__)
                else:
                    log.warning("express door: the lane failed; the route answers", exc_info=True)
                scope.setdefault("state", {})[EXPRESS_FAILED] = True
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(answer)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})


def _candidate(scope: Scope) -> bool:
    """A plain POST of one event, to an application with an express lane (PostgreSQL: on
    SQLite the door would only read the body twice)."""
    return (
        scope["type"] == "http"
        and getattr(scope["app"].state, "async_lane", None) is not None
        and scope["method"] == "POST"
        and scope["path"] == PATH
        and not scope.get("root_path")
        and not scope.get("query_string")
    )


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message of the request body as received (to hand on unchanged), and the body;
    None for a body the door will not take (a disconnect, or too large)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _headers(scope: Scope) -> dict[bytes, bytes] | None:
    """The headers the door reads; None when a header it must not judge is present or one
    appears twice."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            return None
        if name in (b"authorization", b"content-type"):
            if name in found:
                return None
            found[name] = value
    return found


def _caller(db: Database, authorization: bytes | None) -> Caller | None:
    if authorization is None:
        return None
    scheme, _, credentials = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    found, identity = db.caches.peek(("key", sha256_hex(credentials)))
    if not found or identity is None or identity.scopes.isdisjoint(WRITE):
        return None
    return Caller(identity.program_id, identity.key_id, identity.scopes)


async def _try(scope: Scope, body: bytes) -> bytes | None:
    headers = _headers(scope)
    if headers is None or headers.get(b"content-type") != b"application/json":
        return None
    state = scope["app"].state
    db: Database = state.db
    who = _caller(db, headers.get(b"authorization"))
    if who is None:
        return None
    try:
        event = EventIn.model_validate(json.loads(body))
    except (ValueError, ValidationError, RecursionError):  # the route answers 400 or 422
        return None
    response = await express_answer(state, db, who, event, state.clock())
    return None if response is None else bytes(response.body)
