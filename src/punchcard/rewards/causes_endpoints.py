"""/v1/causes: the causes members donate to, with what their donations add up to."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.rewards import causes_service as service
from punchcard.rewards.causes_schemas import (
    CauseCreate,
    CauseOut,
    CausePage,
    CausePatch,
)
from punchcard.rewards.paging import PageSize, after_id, page_of

router = APIRouter(tags=["causes"])


@router.post(
    "/v1/causes", status_code=201, response_model=CauseOut, responses=errors(400, 403, 409)
)
def create_cause(
    body: CauseCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a cause members can donate to: "1 tree per 500 points" is `impact_unit` "tree",
    `points_per_unit` 500. Offer it through a `donation` reward."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        record = service.create_cause(
            session, program_id=who.program_id, fields=body.model_dump(), now=now
        )
        return 201, CauseOut.of(record)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/causes", response_model=CausePage, responses=errors(403))
def list_causes(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> CausePage:
    """Causes, oldest first, each with what members gave to it so far."""
    after = after_id(cursor)
    with db.reader() as session:
        records = service.list_causes(
            session, program_id=who.program_id, after_id=after, limit=limit + 1, active=active
        )
    items, following = page_of(records, limit, CauseOut.of)
    return CausePage(items=items, next_cursor=following)


@router.get("/v1/causes/{cause_id}", response_model=CauseOut, responses=errors(403, 404))
def get_cause(cause_id: Id, who: Reader, db: DbDep) -> CauseOut:
    with db.reader() as session:
        return CauseOut.of(service.get_cause(session, program_id=who.program_id, cause_id=cause_id))


@router.patch(
    "/v1/causes/{cause_id}", response_model=CauseOut, responses=errors(400, 403, 404, 409)
)
def update_cause(
    cause_id: Id,
    body: CausePatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change a cause; `null` clears the description, `active: false` retires it (409
    `cause_in_use` while an active reward gives to it). A new rate applies to future
    donations only."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        record = service.update_cause(
            session,
            program_id=who.program_id,
            cause_id=cause_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, CauseOut.of(record)

    return run_write(request, db, who, now, body, handler, idempotency_key)
