"""Every SQL statement of streaks: definitions, member states, bonuses paid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip, rowcount
from punchcard.models.base import table_of
from punchcard.models.streak import MemberStreak, Streak, StreakBonus
from punchcard.streaks.domain import State


def insert_streak(session: Session, values: dict[str, Any]) -> int:
    return int(
        session.execute(insert(table_of(Streak)).values(**values).returning(Streak.id)).scalar_one()
    )


def update_streak(
    session: Session, program_id: int, streak_id: int, values: dict[str, Any]
) -> None:
    session.execute(
        update(table_of(Streak))
        .where(Streak.program_id == program_id, Streak.id == streak_id)
        .values(**values)
    )


def streak_row(session: Session, program_id: int, streak_id: int) -> Any | None:
    return session.execute(
        select(table_of(Streak)).where(Streak.program_id == program_id, Streak.id == streak_id)
    ).one_or_none()


def streak_page(
    session: Session, program_id: int, *, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    query = (
        select(table_of(Streak))
        .where(Streak.program_id == program_id, Streak.id > after_id)
        .order_by(Streak.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(Streak.active.is_(active))
    return list(session.execute(query).all())


def active_streaks(session: Session, program_id: int) -> list[Any]:
    return list(
        session.execute(
            select(table_of(Streak))
            .where(Streak.program_id == program_id, Streak.active.is_(True))
            .order_by(Streak.id)
        ).all()
    )


def any_active(session: Session, program_id: int) -> bool:
    found = session.execute(
        select(Streak.id).where(Streak.program_id == program_id, Streak.active.is_(True)).limit(1)
    ).first()
    return found is not None


def states(
    session: Session, program_id: int, member_id: int, streak_ids: list[int]
) -> dict[int, State]:
    """The member's state in each of these streaks, in one statement."""
    rows = session.execute(
        select(
            MemberStreak.streak_id,
            MemberStreak.current_length,
            MemberStreak.best_length,
            MemberStreak.last_period_start,
            MemberStreak.started_at,
        ).where(
            MemberStreak.program_id == program_id,
            MemberStreak.member_id == member_id,
            MemberStreak.streak_id.in_(streak_ids),
        )
    ).all()
    return {int(r[0]): State(int(r[1]), int(r[2]), r[3], r[4]) for r in rows}


def save_state(
    session: Session,
    program_id: int,
    member_id: int,
    streak_id: int,
    *,
    before: State | None,
    after: State,
    now: datetime,
) -> bool:
    """Write the new state only over the one it was computed from (compare-and-set), so two
    transactions at once cannot both move the streak: False for the one that lost."""
    values = {
        "current_length": after.length,
        "best_length": after.best,
        "last_period_start": after.last_period,
        "started_at": after.started_at,
        "updated_at": now,
    }
    if before is None:
        inserted = session.execute(
            insert_or_skip(session, table_of(MemberStreak))
            .values(program_id=program_id, member_id=member_id, streak_id=streak_id, **values)
            .on_conflict_do_nothing()
            .returning(MemberStreak.streak_id)
        ).first()
        return inserted is not None
    result = session.execute(
        update(table_of(MemberStreak))
        .where(
            MemberStreak.program_id == program_id,
            MemberStreak.member_id == member_id,
            MemberStreak.streak_id == streak_id,
            MemberStreak.last_period_start == before.last_period,
        )
        .values(**values)
    )
    return rowcount(result) == 1


def claim_bonus(
    session: Session,
    program_id: int,
    member_id: int,
    streak_id: int,
    *,
    period: datetime,
    length: int,
    points: int,
    now: datetime,
) -> bool:
    """Record the bonus of this period; False if it was recorded before (never paid twice)."""
    inserted = session.execute(
        insert_or_skip(session, table_of(StreakBonus))
        .values(
            program_id=program_id,
            member_id=member_id,
            streak_id=streak_id,
            period_start=period,
            length=length,
            points=points,
            awarded_at=now,
        )
        .on_conflict_do_nothing()
        .returning(StreakBonus.streak_id)
    ).first()
    return inserted is not None
