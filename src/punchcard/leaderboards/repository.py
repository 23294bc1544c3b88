"""Every SQL statement of leaderboards: boards, members' profiles, and the scores.

The statements the earn path runs (`add_to_boards`) and the two reads that must stay fast with
a million members (`top`, `counts`) are written by hand: each is one statement that the
index `ix_leaderboard_scores_rank` (board, period, visible, score DESC, member) answers as a
range, with no join before the LIMIT and no sort.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from punchcard.db import insert_or_skip
from punchcard.kit.clock import as_utc as as_moment
from punchcard.leaderboards.domain import ALL_TIME_KEY, Metric, Period
from punchcard.models.base import table_of
from punchcard.models.leaderboard import Leaderboard, LeaderboardProfile, LeaderboardScore
from punchcard.models.ledger_transaction import LedgerTransaction

_BOARDS: Table = table_of(Leaderboard)
_PROFILES: Table = table_of(LeaderboardProfile)

# One statement per event for every board it feeds: the period key each board's period needs,
# the member's visibility copied from their profile, added to the row or starting it.
_ADD = (
    "INSERT INTO leaderboard_scores "
    "(leaderboard_id, period_key, member_id, program_id, score, visible) "
    "SELECT l.id, CASE l.period WHEN 'week' THEN :week WHEN 'month' THEN :month "
    "ELSE :all END, :member, :program, :score, "
    "coalesce((SELECT p.opted_in FROM leaderboard_profiles p "
    "WHERE p.program_id = :program AND p.member_id = :member), :hidden) "
    "FROM leaderboards l WHERE l.program_id = :program AND l.active = :yes "
    "AND l.metric = :metric {challenge}"
    "ON CONFLICT (leaderboard_id, period_key, member_id) "
    "DO UPDATE SET score = leaderboard_scores.score + excluded.score"
)
_ADD_POINTS = text(_ADD.format(challenge=""))
_ADD_CHALLENGE = text(_ADD.format(challenge="AND l.challenge_id = :challenge "))
_TOP = text(
    "SELECT s.member_id, p.display_name, s.score FROM ("
    "SELECT member_id, score FROM leaderboard_scores WHERE leaderboard_id = :board "
    "AND period_key = :key AND visible = :yes ORDER BY score DESC, member_id LIMIT :n) s "
    "JOIN leaderboard_profiles p ON p.program_id = :program AND p.member_id = s.member_id "
    "ORDER BY s.score DESC, s.member_id"
)
# Both counts of a member's rank in one pass over the visible members' index entries.
_COUNTS = text(
    "SELECT count(CASE WHEN score > :score THEN 1 END), count(*) FROM leaderboard_scores "
    "WHERE leaderboard_id = :board AND period_key = :key AND visible = :yes"
)
_OWN = text(
    "SELECT score FROM leaderboard_scores WHERE leaderboard_id = :board "
    "AND period_key = :key AND member_id = :member"
)


def insert_board(session: Session, values: dict[str, Any]) -> int:
    return int(
        session.execute(insert(_BOARDS).values(**values).returning(_BOARDS.c.id)).scalar_one()
    )


def board_row(session: Session, program_id: int, board_id: int) -> Any | None:
    return session.execute(
        select(_BOARDS).where(_BOARDS.c.program_id == program_id, _BOARDS.c.id == board_id)
    ).one_or_none()


def board_page(
    session: Session, program_id: int, *, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    query = (
        select(_BOARDS)
        .where(_BOARDS.c.program_id == program_id, _BOARDS.c.id > after_id)
        .order_by(_BOARDS.c.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(_BOARDS.c.active.is_(active))
    return list(session.execute(query).all())


def update_board(session: Session, program_id: int, board_id: int, values: dict[str, Any]) -> None:
    session.execute(
        update(_BOARDS)
        .where(_BOARDS.c.program_id == program_id, _BOARDS.c.id == board_id)
        .values(**values)
    )


def any_active(session: Session, program_id: int) -> bool:
    found = session.execute(
        select(_BOARDS.c.id)
        .where(_BOARDS.c.program_id == program_id, _BOARDS.c.active.is_(True))
        .limit(1)
    ).first()
    return found is not None


def challenge_exists(session: Session, program_id: int, challenge_id: int) -> bool:
    """Asked of the challenges' table by plain SQL: a board only needs to know the id is the
    program's, not how challenges are modelled."""
    found = session.execute(
        text("SELECT 1 FROM challenges WHERE id = :c AND program_id = :p"),
        {"c": challenge_id, "p": program_id},
    ).first()
    return found is not None


def profile(session: Session, program_id: int, member_id: int) -> Any | None:
    return session.execute(
        select(_PROFILES.c.display_name, _PROFILES.c.opted_in, _PROFILES.c.updated_at).where(
            _PROFILES.c.program_id == program_id, _PROFILES.c.member_id == member_id
        )
    ).one_or_none()


def save_profile(
    session: Session,
    program_id: int,
    member_id: int,
    display_name: str | None,
    opted_in: bool,
    now: datetime,
) -> None:
    """The profile, and the member's visibility copied into every score row of theirs, in the
    same transaction: an opted-out member leaves every list at once."""
    values = {"display_name": display_name, "opted_in": opted_in, "updated_at": now}
    statement = insert_or_skip(session, _PROFILES).values(
        program_id=program_id, member_id=member_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["program_id", "member_id"], set_=values)
    )
    session.execute(
        update(LeaderboardScore)
        .where(
            LeaderboardScore.program_id == program_id,
            LeaderboardScore.member_id == member_id,
            LeaderboardScore.visible != opted_in,
        )
        .values(visible=opted_in)
        .execution_options(synchronize_session=False)
    )


def add_to_boards(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    score: int,
    keys: dict[Period, str],
    metric: Metric,
    challenge_id: int | None = None,
) -> None:
    params = {
        "week": keys[Period.WEEK],
        "month": keys[Period.MONTH],
        "member": member_id,
        "program": program_id,
        "score": score,
        "all": ALL_TIME_KEY,
        "hidden": False,
        "yes": True,
        "metric": metric.value,
    }
    if metric is Metric.CHALLENGE:
        session.execute(_ADD_CHALLENGE, {**params, "challenge": challenge_id})
    else:
        session.execute(_ADD_POINTS, params)


def top(
    session: Session, program_id: int, board_id: int, key: str, limit: int
) -> list[tuple[int, str, int]]:
    rows = session.execute(
        _TOP, {"board": board_id, "key": key, "yes": True, "n": limit, "program": program_id}
    ).all()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def own_score(session: Session, board_id: int, key: str, member_id: int) -> int | None:
    found = session.execute(_OWN, {"board": board_id, "key": key, "member": member_id}).first()
    return None if found is None else int(found[0])


def counts(session: Session, board_id: int, key: str, score: int) -> tuple[int, int]:
    """How many visible members scored more than `score`, and how many are visible."""
    above, visible = session.execute(
        _COUNTS, {"board": board_id, "key": key, "yes": True, "score": score}
    ).one()
    return int(above), int(visible)


def visible_scores(session: Session, board_id: int, key: str, at_least: int) -> array[int] | None:
    """The listed members' scores, ascending, when there are at least `at_least` of them
    (one index-only pass); None for a smaller board."""
    (listed,) = session.execute(
        text(
            "SELECT count(*) FROM leaderboard_scores WHERE leaderboard_id = :board "
            "AND period_key = :key AND visible = :yes"
        ),
        {"board": board_id, "key": key, "yes": True},
    ).one()
    if int(listed) < at_least:
        return None
    rows = session.execute(
        text(
            "SELECT score FROM leaderboard_scores WHERE leaderboard_id = :board "
            "AND period_key = :key AND visible = :yes ORDER BY score"
        ),
        {"board": board_id, "key": key, "yes": True},
    )
    return array("q", (int(r[0]) for r in rows))


def earned_history(session: Session, program_id: int) -> Iterator[tuple[int, datetime, int]]:
    """Points earned, as the live path counts them: each earn credit at its time, minus each
    reversal of one (a refund) at the reversal's time; bonus points are earn credits too.
    Streamed: one pass over the program's ledger."""
    t = aliased(LedgerTransaction)
    earned = aliased(LedgerTransaction)
    query = (
        select(
            t.member_id,
            t.occurred_at,
            case((t.kind == "earn", t.points), else_=-t.points),
        )
        .outerjoin(earned, earned.id == t.reverses_id)
        .where(
            t.program_id == program_id,
            or_(t.kind == "earn", and_(t.kind == "reversal", earned.kind == "earn")),
        )
        .execution_options(yield_per=10_000)
    )
    for member_id, occurred_at, points in session.execute(query):
        yield int(member_id), as_moment(occurred_at), int(points)


def replace_scores(
    session: Session, program_id: int, board_id: int, scores: dict[tuple[str, int], int]
) -> None:
    """The board's rows, all of them, from `scores` ((period key, member) -> score), with
    each member's visibility from their profile."""
    session.execute(
        text("DELETE FROM leaderboard_scores WHERE leaderboard_id = :board"), {"board": board_id}
    )
    listed = set(
        session.execute(
            select(_PROFILES.c.member_id).where(
                _PROFILES.c.program_id == program_id, _PROFILES.c.opted_in.is_(True)
            )
        ).scalars()
    )
    rows = [
        {"leaderboard_id": board_id, "period_key": key, "member_id": member_id,
         "program_id": program_id, "score": score, "visible": member_id in listed}
        for (key, member_id), score in scores.items() if score != 0
    ]  # fmt: skip
    for start in range(0, len(rows), 5_000):
        session.execute(insert(LeaderboardScore), rows[start : start + 5_000])
