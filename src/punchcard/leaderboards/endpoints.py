"""/v1/leaderboards and /v1/members/{id}/leaderboard-profile: boards, their lists and ranks,
and the name a member shows on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.engagement.writes import run_config_write
from punchcard.leaderboards import service
from punchcard.leaderboards.domain import Metric, ScoreSnapshot
from punchcard.leaderboards.errors import NotRebuildableError
from punchcard.leaderboards.schemas import (
    LeaderboardCreate,
    LeaderboardOut,
    LeaderboardPage,
    LeaderboardPatch,
    ProfileIn,
    ProfileOut,
    RankOut,
    RebuildOut,
    StandingsOut,
)
from punchcard.rewards.paging import PageSize, after_id, page_of

router = APIRouter(tags=["leaderboards"])

Top = Annotated[int, Query(ge=1, le=service.MAX_TOP, description="How many entries (1-1000).")]
PeriodKey = Annotated[
    str | None,
    Query(
        description="The period: 2026-W03 (week), 2026-01 (month) or all; default: the current.",
    ),
]


@router.post(
    "/v1/leaderboards",
    status_code=201,
    response_model=LeaderboardOut,
    responses=errors(400, 403, 409),
)
def create_leaderboard(
    body: LeaderboardCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A board of net points earned, or of a challenge's metric (422 `unknown_challenge`),
    per week, month or all time. Scores count from its creation on."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        board = service.create_board(
            session,
            program_id=who.program_id,
            name=body.name,
            period=body.period,
            metric=body.metric,
            challenge_id=body.challenge_id,
            active=body.active,
            now=now,
        )
        return 201, LeaderboardOut.of(board)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/leaderboards", response_model=LeaderboardPage, responses=errors(403))
def list_leaderboards(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> LeaderboardPage:
    after = after_id(cursor)
    with db.reader() as session:
        boards = service.list_boards(
            session, program_id=who.program_id, after_id=after, limit=limit + 1, active=active
        )
    items, following = page_of(boards, limit, LeaderboardOut.of)
    return LeaderboardPage(items=items, next_cursor=following)


@router.get(
    "/v1/leaderboards/{leaderboard_id}", response_model=StandingsOut, responses=errors(403, 404)
)
def get_leaderboard(
    leaderboard_id: Id,
    who: Reader,
    db: DbDep,
    now: NowDep,
    top: Top = service.DEFAULT_TOP,
    period: PeriodKey = None,
) -> StandingsOut:
    """The board and its `top` opted-in members of the period, best first: rank (equal scores
    share one), display name and score; never a member id or an e-mail."""
    with db.reader() as session:
        found = service.standings(
            session,
            program_id=who.program_id,
            board_id=leaderboard_id,
            top=top,
            period_key=period,
            now=now,
        )
    return StandingsOut.of_standings(found)


@router.post(
    "/v1/leaderboards/{leaderboard_id}/rebuild",
    response_model=RebuildOut,
    responses=errors(400, 403, 404, 409),
)
def rebuild_leaderboard(
    leaderboard_id: Id,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Score a points board again from the ledger, every period (a new points board does this
    when created): after it was stopped for a while, say. 409 `not_rebuildable` for a
    challenge board, whose scores only its challenge's progress gives."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        board = service.get_board(session, program_id=who.program_id, board_id=leaderboard_id)
        if board.metric is not Metric.POINTS:
            raise NotRebuildableError(
                "only a points board can be scored again from the ledger",
                details={"leaderboard_id": board.id},
            )
        rows = service.count_history(session, who.program_id, board)
        return 200, RebuildOut(leaderboard_id=board.id, rows=rows)

    return run_write(request, db, who, now, None, handler, idempotency_key)


@router.patch(
    "/v1/leaderboards/{leaderboard_id}",
    response_model=LeaderboardOut,
    responses=errors(400, 403, 404, 409),
)
def update_leaderboard(
    leaderboard_id: Id,
    body: LeaderboardPatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Rename, or stop (`active: false`) and restart a board; a stopped board keeps its lists
    but no longer counts."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        board = service.update_board(
            session,
            program_id=who.program_id,
            board_id=leaderboard_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, LeaderboardOut.of(board)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/leaderboards/{leaderboard_id}/members/{member_id}",
    response_model=RankOut,
    responses=errors(403, 404),
)
def member_rank(
    leaderboard_id: Id,
    member_id: Id,
    who: Reader,
    db: DbDep,
    now: NowDep,
    period: PeriodKey = None,
) -> RankOut:
    """The member's score and rank among the visible members, also for a member who does not
    appear (opted out): the rank they would have."""

    def snapshot(board_id: int, key: str) -> ScoreSnapshot:
        def load() -> ScoreSnapshot:
            with db.reader() as session:
                return service.scores_snapshot(session, board_id, key)

        return db.caches.get(("leaderboard-scores", board_id, key), load)

    with db.reader() as session:
        found = service.member_rank(
            session,
            program_id=who.program_id,
            board_id=leaderboard_id,
            member_id=member_id,
            period_key=period,
            now=now,
            snapshot=snapshot,
        )
    return RankOut.of_rank(found)


@router.get(
    "/v1/members/{member_id}/leaderboard-profile",
    response_model=ProfileOut,
    responses=errors(403, 404),
    tags=["members"],
)
def get_profile(member_id: Id, who: Reader, db: DbDep) -> ProfileOut:
    """The member's display name and whether they appear; not opted in until they choose."""
    with db.reader() as session:
        found = service.get_profile(session, program_id=who.program_id, member_id=member_id)
    return ProfileOut.of(member_id, found)


@router.put(
    "/v1/members/{member_id}/leaderboard-profile",
    response_model=ProfileOut,
    responses=errors(400, 403, 404, 409),
    tags=["members"],
)
def put_profile(
    member_id: Id,
    body: ProfileIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Set the display name and the choice to appear. 422 `display_name_invalid` (with
    `details.reason`: length, characters, email, phone), `display_name_required` to opt in
    without a name. Opting out takes the member off every list at once."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        found = service.put_profile(
            session,
            program_id=who.program_id,
            member_id=member_id,
            display_name=body.display_name,
            opted_in=body.opted_in,
            now=now,
        )
        return 200, ProfileOut.of(member_id, found)

    return run_write(request, db, who, now, body, handler, idempotency_key)
