"""/v1/badges and /v1/members/{id}/badges: the program's badges, awards and a member's view."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.badges import service
from punchcard.badges.schemas import (
    AwardIn,
    AwardOut,
    BadgeCreate,
    BadgeOut,
    BadgePage,
    BadgePatch,
    EarnedOut,
    LockedOut,
    MemberBadgesOut,
)
from punchcard.engagement.writes import run_config_write
from punchcard.rewards.paging import PageSize, after_id, page_of

router = APIRouter(tags=["badges"])


@router.post(
    "/v1/badges", status_code=201, response_model=BadgeOut, responses=errors(400, 403, 409)
)
def create_badge(
    body: BadgeCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Define a badge. 422 `invalid_badge` (with `details.field`) for an unknown event type
    or items summed on another type, `unknown_tier` for a tier the program does not have."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        fields = body.model_dump()
        row = service.create_badge(session, program_id=who.program_id, fields=fields, now=now)
        return 201, BadgeOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/badges", response_model=BadgePage, responses=errors(403))
def list_badges(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> BadgePage:
    """The program's badges, oldest first; retired ones too unless `active=true`."""
    after = after_id(cursor)
    with db.reader() as session:
        rows = service.list_badges(
            session, program_id=who.program_id, after_id=after, limit=limit + 1, active=active
        )
    items, following = page_of(rows, limit, BadgeOut.of)
    return BadgePage(items=items, next_cursor=following)


@router.get("/v1/badges/{badge_id}", response_model=BadgeOut, responses=errors(403, 404))
def get_badge(badge_id: Id, who: Reader, db: DbDep) -> BadgeOut:
    with db.reader() as session:
        return BadgeOut.of(service.get_badge(session, program_id=who.program_id, badge_id=badge_id))


@router.patch(
    "/v1/badges/{badge_id}", response_model=BadgeOut, responses=errors(400, 403, 404, 409)
)
def update_badge(
    badge_id: Id,
    body: BadgePatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change any field; left out stays, `null` clears an optional one, `active: false`
    retires the badge (members keep it). A new criterion counts from now on."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = service.update_badge(
            session,
            program_id=who.program_id,
            badge_id=badge_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, BadgeOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/v1/members/{member_id}/badges",
    status_code=201,
    response_model=AwardOut,
    responses={
        200: {"model": AwardOut, "description": "The member already had the badge"},
        **errors(400, 403, 404, 409),
    },
    tags=["members"],
)
def award_badge(
    member_id: Id,
    body: AwardIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Give a member a badge by hand (any badge; `manual` ones only come this way or from a
    challenge), with its points. 201 when awarded now, 200 with `awarded: false` when the
    member already had it. 409 `badge_inactive` for a retired badge."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        awarded, row = service.award_by_admin(
            session,
            program_id=who.program_id,
            member_id=member_id,
            badge_id=body.badge_id,
            key_id=who.key_id,
            now=now,
        )
        return (201 if awarded else 200), AwardOut(**EarnedOut.fields_of(row), awarded=awarded)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/badges",
    response_model=MemberBadgesOut,
    responses=errors(403, 404),
    tags=["members"],
)
def member_badges(
    member_id: Id,
    who: Reader,
    db: DbDep,
    now: NowDep,
    include: Literal["locked"] | None = None,
) -> MemberBadgesOut:
    """The member's badges, newest first, each with what earned it; with `include=locked`
    also the active badges not earned yet and the member's progress ("3 of 5 orders")."""
    with db.reader() as session:
        found = service.member_badges(
            session,
            program_id=who.program_id,
            member_id=member_id,
            include_locked=include == "locked",
            now=now,
        )
    locked = None
    if found.locked is not None:
        locked = [LockedOut.of(BadgeOut.of(row), progress) for row, progress in found.locked]
    return MemberBadgesOut(
        member_id=member_id, earned=[EarnedOut.of(r) for r in found.earned], locked=locked
    )
