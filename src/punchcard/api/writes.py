"""One way to run a write: claim the Idempotency-Key, call the service, store the exact
response bytes, commit once. A replay sends the stored bytes back untouched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Caller
from punchcard.db import Database
from punchcard.idempotency import service as idempotency
from punchcard.kit.hashing import canonical_json, sha256_hex

JSON = "application/json"
# A handler answers a model, or the JSON of one already encoded (a batch's thousand results).
Handler = Callable[[Session], tuple[int, BaseModel | bytes]]


class Sealer(Protocol):
    """Seals a stored response that holds a secret shown once (a redemption code)."""

    def seal(self, data: bytes) -> bytes: ...

    def unseal(self, token: bytes) -> bytes: ...


def fingerprint(request: Request, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    return sha256_hex(
        canonical_json({"method": request.method, "path": request.url.path, "body": payload})
    )


def run_write(
    request: Request,
    db: Database,
    who: Caller,
    now: datetime,
    body: BaseModel | None,
    handler: Handler,
    key: str | None,
    sealer: Sealer | None = None,
) -> Response:
    """With a `sealer`, the stored response is sealed and a replay unseals it: the client still
    gets the first response byte for byte, and the database never holds it in clear."""
    with db.writer() as session:
        try:
            if key is not None:
                replay = idempotency.begin(
                    session,
                    program_id=who.program_id,
                    key=key,
                    fingerprint=fingerprint(request, body),
                    now=now,
                )
                if replay is not None:
                    session.rollback()
                    return Response(
                        replay.body if sealer is None else sealer.unseal(replay.body),
                        status_code=replay.status_code,
                        media_type=JSON,
                        headers={"Idempotent-Replayed": "true"},
                    )
            status, model = handler(session)
            raw = model if isinstance(model, bytes) else model.model_dump_json().encode()
            if key is not None:
                idempotency.finish(
                    session,
                    program_id=who.program_id,
                    key=key,
                    status_code=status,
                    body=raw if sealer is None else sealer.seal(raw),
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return Response(raw, status_code=status, media_type=JSON)
