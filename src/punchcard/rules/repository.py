"""SQL for rule set versions and campaign budgets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import RuleBudget, RuleSetVersion
from punchcard.models.base import table_of


def latest(session: Session, program_id: int) -> tuple[int, str] | None:
    row = session.execute(
        select(RuleSetVersion.version, RuleSetVersion.body)
        .where(RuleSetVersion.program_id == program_id)
        .order_by(RuleSetVersion.version.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (row.version, row.body)


def body_of(session: Session, program_id: int, version: int) -> str | None:
    return session.execute(
        select(RuleSetVersion.body).where(
            RuleSetVersion.program_id == program_id, RuleSetVersion.version == version
        )
    ).scalar_one_or_none()


def add_version(session: Session, program_id: int, body: str, now: datetime) -> int:
    """The next version number; the primary key makes two racing writers collide, not merge."""
    current = session.execute(
        select(func.coalesce(func.max(RuleSetVersion.version), 0)).where(
            RuleSetVersion.program_id == program_id
        )
    ).scalar_one()
    version = int(current) + 1
    session.execute(
        insert(table_of(RuleSetVersion)).values(
            program_id=program_id, version=version, body=body, created_at=now
        )
    )
    return version


def lock_budgets(session: Session, program_id: int, rule_ids: Iterable[str]) -> dict[str, int]:
    """Create (if new) and row-lock the budget counters of these rules; returns points spent."""
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    session.execute(
        insert_or_skip(session, table_of(RuleBudget))
        .values([{"program_id": program_id, "rule_id": r, "spent": 0} for r in ids])
        .on_conflict_do_nothing()
    )
    rows = session.execute(
        select(RuleBudget.rule_id, RuleBudget.spent)
        .where(RuleBudget.program_id == program_id, RuleBudget.rule_id.in_(ids))
        .order_by(RuleBudget.rule_id)
        .with_for_update()
    ).all()
    return {r.rule_id: int(r.spent) for r in rows}


def add_spent(session: Session, program_id: int, spent: dict[str, int]) -> None:
    for rule_id, points in spent.items():
        if points:
            session.execute(
                update(RuleBudget)
                .where(RuleBudget.program_id == program_id, RuleBudget.rule_id == rule_id)
                .values(spent=RuleBudget.spent + points)
            )


def spent(session: Session, program_id: int, rule_ids: Iterable[str]) -> dict[str, int]:
    """Budget counters without locking them, for dry runs."""
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(RuleBudget.rule_id, RuleBudget.spent).where(
            RuleBudget.program_id == program_id, RuleBudget.rule_id.in_(ids)
        )
    ).all()
    return {r.rule_id: int(r.spent) for r in rows}
