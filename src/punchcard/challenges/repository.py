"""Every SQL statement of challenges: definitions, runs, contributions and completions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.challenges.domain import Run
from punchcard.db import insert_or_skip, rowcount
from punchcard.models import Member, Reward
from punchcard.models.badge import Badge
from punchcard.models.base import table_of
from punchcard.models.challenge import (
    Challenge,
    ChallengeCompletion,
    ChallengeContribution,
    ChallengeRun,
)

_CHALLENGES = table_of(Challenge)
_RUNS = table_of(ChallengeRun)
_CONTRIBUTIONS = table_of(ChallengeContribution)
_COMPLETIONS = table_of(ChallengeCompletion)

# --- definitions --------------------------------------------------------------------------


def insert_challenge(session: Session, values: dict[str, Any]) -> int:
    return int(
        session.execute(insert(_CHALLENGES).values(**values).returning(Challenge.id)).scalar_one()
    )


def update_challenge(
    session: Session, program_id: int, challenge_id: int, values: dict[str, Any]
) -> None:
    session.execute(
        update(_CHALLENGES)
        .where(_CHALLENGES.c.program_id == program_id, _CHALLENGES.c.id == challenge_id)
        .values(**values)
    )


def challenge_row(session: Session, program_id: int, challenge_id: int) -> Any | None:
    """Another program's challenge is as absent as a missing one."""
    return session.execute(
        select(_CHALLENGES).where(
            _CHALLENGES.c.program_id == program_id, _CHALLENGES.c.id == challenge_id
        )
    ).one_or_none()


def challenge_page(
    session: Session, program_id: int, *, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    query = (
        select(_CHALLENGES)
        .where(_CHALLENGES.c.program_id == program_id, _CHALLENGES.c.id > after_id)
        .order_by(_CHALLENGES.c.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(_CHALLENGES.c.active.is_(active))
    return list(session.execute(query).all())


_ACTIVE = (
    select(_CHALLENGES)
    .where(_CHALLENGES.c.program_id == bindparam("p"), _CHALLENGES.c.active.is_(True))
    .order_by(_CHALLENGES.c.id)
)


def active_challenges(session: Session, program_id: int) -> list[Any]:
    """All the program's active challenges, in one statement (every event reads them)."""
    return list(session.execute(_ACTIVE, {"p": program_id}).all())


def any_active(session: Session, program_id: int) -> bool:
    return (
        session.execute(
            select(_CHALLENGES.c.id)
            .where(_CHALLENGES.c.program_id == program_id, _CHALLENGES.c.active.is_(True))
            .limit(1)
        ).first()
        is not None
    )


def challenges_by_id(session: Session, program_id: int, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = session.execute(
        select(_CHALLENGES).where(_CHALLENGES.c.program_id == program_id, _CHALLENGES.c.id.in_(ids))
    ).all()
    return {row.id: row for row in rows}


def badge_exists(session: Session, program_id: int, badge_id: int) -> bool:
    return (
        session.execute(
            select(Badge.id).where(Badge.program_id == program_id, Badge.id == badge_id)
        ).first()
        is not None
    )


def reward_type(session: Session, program_id: int, reward_id: int) -> str | None:
    """The catalog reward's type, or None when the program has no such active reward."""
    found = session.execute(
        select(Reward.type).where(
            Reward.program_id == program_id, Reward.id == reward_id, Reward.active.is_(True)
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


# --- members and their runs ---------------------------------------------------------------


def member_facts(session: Session, program_id: int, member_id: int) -> tuple[str, datetime] | None:
    """The member's enrolment channel and date; None for no such member of the program."""
    row = session.execute(
        select(Member.channel, Member.created_at).where(
            Member.program_id == program_id, Member.id == member_id
        )
    ).one_or_none()
    return None if row is None else (str(row[0]), row[1])


def _run(row: Any) -> Run:
    return Run(
        challenge_id=row.challenge_id,
        run=row.run,
        step=row.step,
        progress=Decimal(str(row.progress)),
        completions=row.completions,
        joined=bool(row.joined),
        started_at=row.started_at,
        deadline=row.deadline,
        completed_at=row.completed_at,
    )


def latest_runs(
    session: Session, program_id: int, member_id: int, challenge_ids: Sequence[int] | None = None
) -> dict[int, Run]:
    """The member's latest run at each challenge, in one statement."""
    latest = (
        select(_RUNS.c.challenge_id, func.max(_RUNS.c.run).label("run"))
        .where(_RUNS.c.program_id == program_id, _RUNS.c.member_id == member_id)
        .group_by(_RUNS.c.challenge_id)
    )
    if challenge_ids is not None:
        latest = latest.where(_RUNS.c.challenge_id.in_(challenge_ids))
    last = latest.subquery()
    rows = session.execute(
        select(_RUNS)
        .join(last, and_(_RUNS.c.challenge_id == last.c.challenge_id, _RUNS.c.run == last.c.run))
        .where(_RUNS.c.program_id == program_id, _RUNS.c.member_id == member_id)
    ).all()
    return {row.challenge_id: _run(row) for row in rows}


def insert_runs(
    session: Session, program_id: int, member_id: int, runs: Sequence[Run], now: datetime
) -> None:
    """New runs; one already there (a racing writer's) is left as it is."""
    if not runs:
        return
    session.execute(
        insert_or_skip(session, _RUNS).on_conflict_do_nothing(),
        [
            {
                "program_id": program_id,
                "member_id": member_id,
                "challenge_id": r.challenge_id,
                "run": r.run,
                "step": r.step,
                "progress": r.progress,
                "completions": r.completions,
                "joined": r.joined,
                "started_at": r.started_at,
                "deadline": r.deadline,
                "completed_at": None,
                "completed_by": None,
                "updated_at": now,
            }
            for r in runs
        ],
    )


_MOVE = (
    update(_RUNS)
    .where(
        _RUNS.c.program_id == bindparam("p"),
        _RUNS.c.member_id == bindparam("m"),
        _RUNS.c.challenge_id == bindparam("c"),
        _RUNS.c.run == bindparam("r"),
        _RUNS.c.completed_at.is_(None),
    )
    .values(
        step=bindparam("step"),
        progress=bindparam("progress"),
        completed_at=bindparam("done_at"),
        completed_by=bindparam("done_by"),
        updated_at=bindparam("now"),
    )
)


def move_runs(session: Session, moves: list[dict[str, Any]]) -> None:
    """Each open run to its new step and progress (completed when `done_at` is set), in one
    executemany; a run already completed is never touched again."""
    if moves:
        session.execute(_MOVE, moves)


def insert_contributions(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert_or_skip(session, _CONTRIBUTIONS).on_conflict_do_nothing(), rows)


def order_contributions(
    session: Session, program_id: int, member_id: int, order_id: str
) -> list[Any]:
    """The order's contributions not yet all taken out, with their run's step, progress and
    completion time (open runs and completed ones)."""
    c, r = _CONTRIBUTIONS.c, _RUNS.c
    return list(
        session.execute(
            select(
                c.challenge_id,
                c.run,
                c.source_id,
                c.step,
                c.amount,
                c.taken,
                r.step.label("run_step"),
                r.progress,
                r.completed_at,
            )
            .join(
                _RUNS,
                and_(
                    r.program_id == c.program_id,
                    r.member_id == c.member_id,
                    r.challenge_id == c.challenge_id,
                    r.run == c.run,
                ),
            )
            .where(
                c.program_id == program_id,
                c.member_id == member_id,
                c.order_id == order_id,
                c.taken < c.amount,
            )
        ).all()
    )


def _run_key(program_id: int, member_id: int, challenge_id: int, run: int, table: Any) -> Any:
    return and_(
        table.c.program_id == program_id,
        table.c.member_id == member_id,
        table.c.challenge_id == challenge_id,
        table.c.run == run,
    )


def step_totals(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int
) -> dict[int, Decimal]:
    """What the run's contributions still add up to in each step (refunds taken out)."""
    c = _CONTRIBUTIONS.c
    rows = session.execute(
        select(c.step, func.sum(c.amount - c.taken))
        .where(_run_key(program_id, member_id, challenge_id, run, _CONTRIBUTIONS))
        .group_by(c.step)
    ).all()
    return {int(step): Decimal(str(total or 0)) for step, total in rows}


def completion_of(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int
) -> Any | None:
    return session.execute(
        select(_COMPLETIONS).where(_run_key(program_id, member_id, challenge_id, run, _COMPLETIONS))
    ).one_or_none()


def delete_completion(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int
) -> bool:
    """The completion undone: True for the one writer that removed it."""
    result = session.execute(
        delete(_COMPLETIONS).where(_run_key(program_id, member_id, challenge_id, run, _COMPLETIONS))
    )
    return rowcount(result) == 1


def run_state(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int
) -> Run | None:
    row = session.execute(
        select(_RUNS).where(_run_key(program_id, member_id, challenge_id, run, _RUNS))
    ).one_or_none()
    return None if row is None else _run(row)


def delete_run(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int
) -> None:
    """A run nothing counted in yet (the one a completion started), with its contributions."""
    for table in (_CONTRIBUTIONS, _RUNS):
        session.execute(
            delete(table).where(_run_key(program_id, member_id, challenge_id, run, table))
        )


def reopen_run(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int, *,
    step: int, progress: Decimal, now: datetime,
) -> None:  # fmt: skip
    session.execute(
        update(_RUNS)
        .where(_run_key(program_id, member_id, challenge_id, run, _RUNS))
        .values(step=step, progress=progress, completed_at=None, completed_by=None, updated_at=now)
    )


def one_completion_less(
    session: Session, program_id: int, member_id: int, challenge_id: int, after_run: int
) -> None:
    """Later runs counted a completion that was undone."""
    r = _RUNS.c
    session.execute(
        update(_RUNS)
        .where(
            r.program_id == program_id,
            r.member_id == member_id,
            r.challenge_id == challenge_id,
            r.run > after_run,
            r.completions > 0,
        )
        .values(completions=r.completions - 1)
    )


_TAKE = (
    update(_CONTRIBUTIONS)
    .where(
        _CONTRIBUTIONS.c.program_id == bindparam("p"),
        _CONTRIBUTIONS.c.member_id == bindparam("m"),
        _CONTRIBUTIONS.c.challenge_id == bindparam("c"),
        _CONTRIBUTIONS.c.run == bindparam("r"),
        _CONTRIBUTIONS.c.source_id == bindparam("s"),
    )
    .values(taken=_CONTRIBUTIONS.c.taken + bindparam("n"))
)
_LESS = (
    update(_RUNS)
    .where(
        _RUNS.c.program_id == bindparam("p"),
        _RUNS.c.member_id == bindparam("m"),
        _RUNS.c.challenge_id == bindparam("c"),
        _RUNS.c.run == bindparam("r"),
        _RUNS.c.completed_at.is_(None),
    )
    .values(progress=_RUNS.c.progress - bindparam("n"), updated_at=bindparam("now"))
)


def take_out(session: Session, takes: list[dict[str, Any]]) -> None:
    """Refunded contributions out of their open runs (keys p, m, c, r, s, n, now)."""
    if takes:
        session.execute(_TAKE, takes)
        session.execute(_LESS, takes)


def insert_completion(session: Session, values: dict[str, Any]) -> bool:
    """True for the one writer that records the completion; False when it already exists."""
    statement = (
        insert_or_skip(session, _COMPLETIONS)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(_COMPLETIONS.c.run)
    )
    return session.execute(statement).first() is not None  # rowcount is -1 here on psycopg


def set_completion_reward(
    session: Session, program_id: int, member_id: int, challenge_id: int, run: int, reward: str,
    transaction_id: int | None = None,
) -> None:  # fmt: skip
    session.execute(
        update(_COMPLETIONS)
        .where(
            _COMPLETIONS.c.program_id == program_id,
            _COMPLETIONS.c.member_id == member_id,
            _COMPLETIONS.c.challenge_id == challenge_id,
            _COMPLETIONS.c.run == run,
        )
        .values(reward=reward, transaction_id=transaction_id)
    )


def completions(
    session: Session, program_id: int, member_id: int, challenge_ids: Sequence[int]
) -> dict[int, list[Any]]:
    """The member's completions of each challenge, oldest first."""
    if not challenge_ids:
        return {}
    rows = session.execute(
        select(_COMPLETIONS)
        .where(
            _COMPLETIONS.c.program_id == program_id,
            _COMPLETIONS.c.member_id == member_id,
            _COMPLETIONS.c.challenge_id.in_(challenge_ids),
        )
        .order_by(_COMPLETIONS.c.challenge_id, _COMPLETIONS.c.run)
    ).all()
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.challenge_id, []).append(row)
    return found


def loaded(raw: str | None) -> dict[str, Any]:
    return json.loads(raw) if raw else {}
