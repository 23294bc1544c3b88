"""/v1/streaks and /v1/members/{id}/streaks: the program's streaks and a member's runs."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.engagement.writes import run_config_write
from punchcard.rewards.paging import PageSize, after_id, page_of
from punchcard.streaks import service
from punchcard.streaks.schemas import (
    MemberStreakOut,
    MemberStreaksOut,
    StreakCreate,
    StreakOut,
    StreakPage,
    StreakPatch,
)

router = APIRouter(tags=["streaks"])


@router.post(
    "/v1/streaks", status_code=201, response_model=StreakOut, responses=errors(400, 403, 409)
)
def create_streak(
    body: StreakCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Define a streak. 422 `invalid_streak` (with `details.field`, and `details.errors` for
    conditions) for an unknown event type, duplicate bonus lengths, `repeat_every` without a
    bonus, or conditions the rules engine refuses."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        fields = body.model_dump(mode="json")
        row = service.create_streak(session, program_id=who.program_id, fields=fields, now=now)
        return 201, StreakOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/streaks", response_model=StreakPage, responses=errors(403))
def list_streaks(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> StreakPage:
    """The program's streaks, oldest first; retired ones too unless `active=true`."""
    after = after_id(cursor)
    with db.reader() as session:
        rows = service.list_streaks(
            session, program_id=who.program_id, after_id=after, limit=limit + 1, active=active
        )
    items, following = page_of(rows, limit, StreakOut.of)
    return StreakPage(items=items, next_cursor=following)


@router.get("/v1/streaks/{streak_id}", response_model=StreakOut, responses=errors(403, 404))
def get_streak(streak_id: Id, who: Reader, db: DbDep) -> StreakOut:
    with db.reader() as session:
        row = service.get_streak(session, program_id=who.program_id, streak_id=streak_id)
    return StreakOut.of(row)


@router.patch(
    "/v1/streaks/{streak_id}", response_model=StreakOut, responses=errors(400, 403, 404, 409)
)
def update_streak(
    streak_id: Id,
    body: StreakPatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change any field but the period; left out stays, `null` clears an optional one,
    `active: false` retires the streak."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = service.update_streak(
            session,
            program_id=who.program_id,
            streak_id=streak_id,
            changes=body.model_dump(mode="json", exclude_unset=True),
            now=now,
        )
        return 200, StreakOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/streaks",
    response_model=MemberStreaksOut,
    responses=errors(403, 404),
    tags=["members"],
)
def member_streaks(member_id: Id, who: Reader, db: DbDep, now: NowDep) -> MemberStreaksOut:
    """Each active streak as of now: its length (0 once broken), whether this period is
    already counted, the deadline to keep it alive, the next bonus and the best run."""
    with db.reader() as session:
        found = service.member_streaks(
            session, program_id=who.program_id, member_id=member_id, now=now
        )
    return MemberStreaksOut(
        member_id=member_id, items=[MemberStreakOut.of(row, view) for row, view in found]
    )
