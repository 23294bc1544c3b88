"""/v1/challenges and the member's side of them: joining, and where they stand."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.challenges import domain, service
from punchcard.challenges.schemas import (
    ChallengeCreate,
    ChallengeOut,
    ChallengePage,
    ChallengePatch,
    CompletionOut,
    JoinOut,
    MemberChallengeList,
    MemberChallengeOut,
)
from punchcard.engagement.writes import run_config_write
from punchcard.rewards.paging import PageSize, after_id, page_of

router = APIRouter(tags=["challenges"])


@router.post(
    "/v1/challenges", status_code=201, response_model=ChallengeOut, responses=errors(400, 403, 409)
)
def create_challenge(
    body: ChallengeCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Define a challenge. 422 `invalid_window`, `invalid_conditions` (with `details.errors`),
    `invalid_challenge` (with `details.field`), `unknown_badge`, `unknown_reward`,
    `unknown_tier`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = service.create_challenge(session, program_id=who.program_id, body=body, now=now)
        return 201, ChallengeOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/challenges", response_model=ChallengePage, responses=errors(403))
def list_challenges(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> ChallengePage:
    """The program's challenges, oldest first; only active or retired ones with `active`."""
    after = after_id(cursor)
    with db.reader() as session:
        rows = service.list_challenges(
            session, program_id=who.program_id, after_id=after, limit=limit + 1, active=active
        )
    items, following = page_of(rows, limit, ChallengeOut.of)
    return ChallengePage(items=items, next_cursor=following)


@router.get(
    "/v1/challenges/{challenge_id}", response_model=ChallengeOut, responses=errors(403, 404)
)
def get_challenge(challenge_id: Id, who: Reader, db: DbDep) -> ChallengeOut:
    with db.reader() as session:
        row = service.get_challenge(session, program_id=who.program_id, challenge_id=challenge_id)
    return ChallengeOut.of(row)


@router.patch(
    "/v1/challenges/{challenge_id}",
    response_model=ChallengeOut,
    responses=errors(400, 403, 404, 409),
)
def update_challenge(
    challenge_id: Id,
    body: ChallengePatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change any field; `active: false` retires the challenge (runs stop counting, the
    completions stay). Checked whole again, with the same errors as creation."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = service.update_challenge(
            session,
            program_id=who.program_id,
            challenge_id=challenge_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, ChallengeOut.of(row)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/v1/members/{member_id}/challenges/{challenge_id}/join",
    response_model=JoinOut,
    responses=errors(400, 403, 404, 409),
    tags=["members"],
)
def join_challenge(
    member_id: Id,
    challenge_id: Id,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Opt the member in; joining again answers the run under way. 409 `challenge_closed`
    (retired, window ended, or completed as often as allowed), `not_eligible` (with
    `details.reason`: tiers, enrolled_channels or new_members_within_days)."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        run = service.join(
            session,
            program_id=who.program_id,
            member_id=member_id,
            challenge_id=challenge_id,
            now=now,
        )
        return 200, JoinOut(
            challenge_id=challenge_id,
            member_id=member_id,
            run=run.run,
            started_at=run.started_at,
            deadline=run.deadline,
        )

    return run_write(request, db, who, now, None, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/challenges",
    response_model=MemberChallengeList,
    responses=errors(403, 404),
    tags=["members"],
)
def member_challenges(member_id: Id, who: Reader, db: DbDep, now: NowDep) -> MemberChallengeList:
    """Each challenge the member can see, with status, progress ("3 of 5 orders", "spend
    20.00 more"), the current step, the deadline and every completion."""
    with db.reader() as session:
        found = service.member_challenges(
            session, program_id=who.program_id, member_id=member_id, now=now
        )
    return MemberChallengeList(member_id=member_id, items=[_member_item(m) for m in found])


def _member_item(found: service.MemberChallenge) -> MemberChallengeOut:
    run = found.run
    step = found.step
    number = domain.number if step.metric is domain.Metric.COUNT else domain.money
    return MemberChallengeOut(
        challenge_id=found.challenge.id,
        name=found.challenge.name,
        description=found.challenge.description,
        status=found.status,
        opt_in_required=found.spec.opt_in_required,
        run=None if run is None else run.run,
        step=(0 if run is None else run.step) + 1,
        steps=len(found.spec.steps),
        progress=number(found.progress),
        target=number(step.target),
        progress_text=found.text,
        deadline=_deadline(found),
        completions=[
            CompletionOut(
                run=c.run,
                completed_at=c.completed_at,
                source_id=c.source_id,
                reward=json.loads(c.reward or "{}"),
            )
            for c in found.completions
        ],
    )


def _deadline(found: service.MemberChallenge) -> datetime | None:
    """The run's own; before any run, a fixed window's end (a rolling one starts at opt-in)."""
    if found.run is not None:
        return found.run.deadline
    window = found.spec.window
    return window.ends_at if window is not None and window.type == "fixed" else None
