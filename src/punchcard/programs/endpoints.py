"""/v1/program and /v1/api-keys: the calling key's own program and its keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.programs import service
from punchcard.programs.domain import Scope
from punchcard.programs.schemas import (
    ApiKeyCreate,
    ApiKeyList,
    ApiKeyOut,
    NewApiKeyOut,
    ProgramOut,
    ProgramPatch,
)

router = APIRouter(tags=["program"])


@router.get("/v1/program", response_model=ProgramOut, responses=errors(403))
def get_program(who: Reader, db: DbDep) -> ProgramOut:
    with db.reader() as session:
        return ProgramOut.of(service.get_program(session, who.program_id))


@router.patch("/v1/program", response_model=ProgramOut, responses=errors(400, 403, 409))
def update_program(
    body: ProgramPatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change settings; new expiry and pending rules apply to points earned from now on."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        # null turns "pay with points" off, and sends the analytics settings back to unset.
        for name in ("points_payment_rate", "point_value", "expected_breakage", "points_names"):
            if name in body.model_fields_set and getattr(body, name) is None:
                changes[name] = None
        program = service.update_program(session, who.program_id, changes=changes, now=now)
        return 200, ProgramOut.of(program)

    response = run_write(request, db, who, now, body, handler, idempotency_key)
    db.caches.forget(("program", who.program_id))
    return response


@router.get("/v1/api-keys", response_model=ApiKeyList, responses=errors(403))
def list_keys(who: Admin, db: DbDep) -> ApiKeyList:
    with db.reader() as session:
        rows = service.list_api_keys(session, who.program_id)
    return ApiKeyList(
        items=[
            ApiKeyOut(
                id=r.id,
                name=r.name,
                prefix=r.prefix,
                scopes=[Scope(s) for s in r.scopes.split(",")],
                created_at=r.created_at,
                revoked_at=r.revoked_at,
            )
            for r in rows
        ]
    )


@router.post(
    "/v1/api-keys", status_code=201, response_model=NewApiKeyOut, responses=errors(400, 403)
)
def create_key(body: ApiKeyCreate, who: Admin, db: DbDep, now: NowDep) -> NewApiKeyOut:
    """Create a key. Not idempotent on purpose: replaying would mean keeping the plain key,
    and only its hash is ever stored. An `Idempotency-Key` header is ignored here."""
    with db.writer() as session:
        key = service.create_api_key(
            session, program_id=who.program_id, scopes=tuple(body.scopes), now=now, name=body.name
        )
        session.commit()
    return NewApiKeyOut(id=key.id, api_key=key.api_key, scopes=list(key.scopes))


@router.delete("/v1/api-keys/{key_id}", status_code=204, responses=errors(403, 404, 409))
def revoke_key(key_id: int, who: Admin, db: DbDep, now: NowDep) -> Response:
    with db.writer() as session:
        service.revoke_api_key(
            session, program_id=who.program_id, key_id=key_id, now=now, keep_an_admin=True
        )
        session.commit()
    db.caches.forget_kind("key")
    return Response(status_code=204)
