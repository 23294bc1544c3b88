"""Leaderboard use cases: define boards, keep members' profiles, feed scores, read lists and
ranks. Session first, keyword-only arguments after; never commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.leaderboards import domain
from punchcard.leaderboards import repository as repo
from punchcard.leaderboards.domain import Entry, Metric, Period
from punchcard.leaderboards.errors import (
    DisplayNameInvalidError,
    DisplayNameRequiredError,
    InvalidLeaderboardError,
    InvalidPeriodError,
    LeaderboardNotFoundError,
    UnknownChallengeError,
)
from punchcard.members import service as members

DEFAULT_TOP = 10
MAX_TOP = 1000


@dataclass(frozen=True)
class Board:
    id: int
    name: str
    period: Period
    metric: Metric
    challenge_id: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


def _board(row: Any) -> Board:
    return Board(
        id=int(row.id),
        name=row.name,
        period=Period(row.period),
        metric=Metric(row.metric),
        challenge_id=row.challenge_id,
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_board(session: Session, *, program_id: int, board_id: int) -> Board:
    row = repo.board_row(session, program_id, board_id)
    if row is None:
        raise LeaderboardNotFoundError(
            f"leaderboard {board_id} not found", details={"leaderboard_id": board_id}
        )
    return _board(row)


def create_board(
    session: Session,
    *,
    program_id: int,
    name: str,
    period: Period,
    metric: Metric,
    challenge_id: int | None,
    active: bool,
    now: datetime,
) -> Board:
    """A challenge board needs a challenge of the program; a points board takes none."""
    if metric is Metric.CHALLENGE:
        if challenge_id is None:
            raise InvalidLeaderboardError(
                "a challenge leaderboard needs challenge_id", details={"field": "challenge_id"}
            )
        if not repo.challenge_exists(session, program_id, challenge_id):
            raise UnknownChallengeError(
                f"no challenge {challenge_id} in this program",
                details={"challenge_id": challenge_id},
            )
    elif challenge_id is not None:
        raise InvalidLeaderboardError(
            "challenge_id is only for metric 'challenge'", details={"field": "challenge_id"}
        )
    board_id = repo.insert_board(
        session,
        {
            "program_id": program_id,
            "name": name,
            "period": period.value,
            "metric": metric.value,
            "challenge_id": challenge_id,
            "active": active,
            "created_at": now,
            "updated_at": now,
        },
    )
    board = get_board(session, program_id=program_id, board_id=board_id)
    if board.metric is Metric.POINTS:
        count_history(session, program_id, board)
    return board


def count_history(session: Session, program_id: int, board: Board) -> int:
    """Score a points board from the program's ledger, as if it had existed from the start:
    a board created today ranks this month's (and all time's) earners at once. Also rebuilds a
    board that missed events while retired. Returns the number of rows written."""
    scores: dict[tuple[str, int], int] = {}
    for member_id, occurred_at, points in repo.earned_history(session, program_id):
        key = (domain.period_key(board.period, occurred_at), member_id)
        scores[key] = scores.get(key, 0) + points
    repo.replace_scores(session, program_id, board.id, scores)
    return sum(1 for v in scores.values() if v != 0)


def update_board(
    session: Session, *, program_id: int, board_id: int, changes: dict[str, Any], now: datetime
) -> Board:
    """Name and active only: a board's period and metric define what its scores mean."""
    get_board(session, program_id=program_id, board_id=board_id)
    if changes:
        repo.update_board(session, program_id, board_id, {**changes, "updated_at": now})
    return get_board(session, program_id=program_id, board_id=board_id)


def list_boards(
    session: Session, *, program_id: int, after_id: int, limit: int, active: bool | None
) -> list[Board]:
    rows = repo.board_page(session, program_id, after_id=after_id, limit=limit, active=active)
    return [_board(r) for r in rows]


def configured(session: Session, program_id: int) -> bool:
    return repo.any_active(session, program_id)


# --- profiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    display_name: str | None
    opted_in: bool
    updated_at: datetime | None


def get_profile(session: Session, *, program_id: int, member_id: int) -> Profile:
    members.get(session, program_id=program_id, member_id=member_id)  # 404 for strangers
    row = repo.profile(session, program_id, member_id)
    if row is None:
        return Profile(None, False, None)
    return Profile(row.display_name, bool(row.opted_in), row.updated_at)


def put_profile(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    display_name: str | None,
    opted_in: bool,
    now: datetime,
) -> Profile:
    """Replace the member's profile; their score rows follow their choice in the same
    transaction."""
    members.get(session, program_id=program_id, member_id=member_id)
    if display_name is not None:
        problem = domain.display_name_problem(display_name)
        if problem is not None:
            raise DisplayNameInvalidError(
                _NAME_MESSAGES[problem], details={"field": "display_name", "reason": problem}
            )
    if opted_in and display_name is None:
        raise DisplayNameRequiredError(
            "choose a display name to appear on leaderboards", details={"field": "display_name"}
        )
    repo.save_profile(session, program_id, member_id, display_name, opted_in, now)
    return Profile(display_name, opted_in, now)


_NAME_MESSAGES = {
    domain.NameProblem.LENGTH: (
        f"a display name has {domain.DISPLAY_MIN} to {domain.DISPLAY_MAX} characters"
    ),
    domain.NameProblem.CHARACTERS: "a display name cannot hold control or invisible characters",
    domain.NameProblem.EMAIL: "a display name cannot be an e-mail address",
    domain.NameProblem.PHONE: "a display name cannot be a phone number",
}


# --- scores -----------------------------------------------------------------------------


def add_points(
    session: Session, *, program_id: int, member_id: int, points: int, occurred_at: datetime
) -> None:
    """Points earned (negative: taken back) count on every active points board, in the
    period of `occurred_at`: one statement for all of them."""
    if points == 0:
        return
    repo.add_to_boards(
        session,
        program_id=program_id,
        member_id=member_id,
        score=points,
        keys=domain.period_keys(occurred_at),
        metric=Metric.POINTS,
    )


def challenge_progress(
    session: Session,
    *,
    program_id: int,
    challenge_id: int,
    member_id: int,
    delta: Decimal,
    occurred_at: datetime,
) -> None:
    score = domain.stored(Metric.CHALLENGE, delta)
    if score == 0:
        return
    repo.add_to_boards(
        session,
        program_id=program_id,
        member_id=member_id,
        score=score,
        keys=domain.period_keys(occurred_at),
        metric=Metric.CHALLENGE,
        challenge_id=challenge_id,
    )


# --- reads ------------------------------------------------------------------------------


def resolve_period(board: Board, key: str | None, now: datetime) -> str:
    """The period asked for, or the current one by the clock."""
    if key is None:
        return domain.period_key(board.period, now)
    if not domain.valid_key(board.period, key):
        example = domain.period_key(board.period, now)
        raise InvalidPeriodError(
            f"{key!r} is not a {board.period.value} period (like {example!r})",
            details={"period": key, "example": example},
        )
    return key


@dataclass(frozen=True)
class Standings:
    board: Board
    period_key: str
    entries: list[Entry]


def standings(
    session: Session,
    *,
    program_id: int,
    board_id: int,
    top: int,
    period_key: str | None,
    now: datetime,
) -> Standings:
    """The `top` visible members of the period, best first, with competition ranks."""
    board = get_board(session, program_id=program_id, board_id=board_id)
    key = resolve_period(board, period_key, now)
    rows = repo.top(session, program_id, board.id, key, top)
    return Standings(board, key, domain.competition_ranks(rows))


@dataclass(frozen=True)
class Rank:
    board: Board
    period_key: str
    member_id: int
    rank: int
    score: int
    visible: bool
    of: int


def member_rank(
    session: Session,
    *,
    program_id: int,
    board_id: int,
    member_id: int,
    period_key: str | None,
    now: datetime,
    snapshot: Callable[[int, str], domain.ScoreSnapshot] | None = None,
) -> Rank:
    """The member's rank among the visible members, shown or not: 1 + how many visible
    members scored more (a member with no score yet has 0). `snapshot`: the process's cached
    scores of a large board (`scores_snapshot`); the member's own score is always read now."""
    board = get_board(session, program_id=program_id, board_id=board_id)
    key = resolve_period(board, period_key, now)
    members.get(session, program_id=program_id, member_id=member_id)
    found = repo.profile(session, program_id, member_id)
    visible = bool(found is not None and found.opted_in)
    score = repo.own_score(session, board.id, key, member_id) or 0
    held = snapshot(board.id, key) if snapshot is not None else None
    if held is not None and held.scores is not None:
        above, of = held.above(score), held.size
    else:
        above, of = repo.counts(session, board.id, key, score)
    return Rank(board, key, member_id, 1 + above, score, visible, of)


def scores_snapshot(session: Session, board_id: int, key: str) -> domain.ScoreSnapshot:
    return domain.ScoreSnapshot(repo.visible_scores(session, board_id, key, domain.SNAPSHOT_FROM))
