"""Causes use cases: good causes members donate points to, and what their gifts add up to.
Session first, keyword-only after; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.programs import service as programs
from punchcard.rewards import repository as repo
from punchcard.rewards.domain import CauseTotals, impact_text
from punchcard.rewards.errors import CauseInUseError, CauseNotFoundError


@dataclass(frozen=True)
class CauseRecord:
    row: Any  # every column of the causes table
    impact: str  # "1 tree per 500 points"
    totals: CauseTotals


def create_cause(
    session: Session, *, program_id: int, fields: dict[str, Any], now: datetime
) -> CauseRecord:
    cause_id = repo.insert_cause(
        session,
        {
            "active": True,
            **fields,
            "program_id": program_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_cause(session, program_id=program_id, cause_id=cause_id)


def get_cause(session: Session, *, program_id: int, cause_id: int) -> CauseRecord:
    """One cause with its totals; another program's cause is as absent as a missing one."""
    row = repo.cause_row(session, program_id, cause_id)
    if row is None:
        raise CauseNotFoundError(f"cause {cause_id} not found", details={"cause_id": cause_id})
    return _records(session, program_id, [row])[0]


def list_causes(
    session: Session, *, program_id: int, after_id: int, limit: int, active: bool | None = None
) -> list[CauseRecord]:
    rows = repo.cause_page(session, program_id, after_id=after_id, limit=limit, active=active)
    return _records(session, program_id, rows)


def update_cause(
    session: Session, *, program_id: int, cause_id: int, changes: dict[str, Any], now: datetime
) -> CauseRecord:
    """Change a cause. A new rate applies to donations from now on; past ones keep the impact
    they recorded. A cause cannot be retired while an active reward still gives to it, or
    members would be offered a donation nobody can receive."""
    row = repo.cause_row(session, program_id, cause_id)
    if row is None:
        raise CauseNotFoundError(f"cause {cause_id} not found", details={"cause_id": cause_id})
    if changes.get("active") is False:
        in_use = repo.active_rewards_of_cause(session, program_id, cause_id)
        if in_use:
            raise CauseInUseError(
                "active rewards still give to this cause: retire them first",
                details={"reward_ids": in_use},
            )
    repo.update_cause(session, program_id, cause_id, {**changes, "updated_at": now})
    return get_cause(session, program_id=program_id, cause_id=cause_id)


def _records(session: Session, program_id: int, rows: list[Any]) -> list[CauseRecord]:
    """Rows with their totals: one grouped query for the whole page, not one per cause."""
    if not rows:
        return []
    totals = repo.cause_totals(session, program_id, [r.id for r in rows])
    points_name = programs.get_program(session, program_id).points_name
    return [
        CauseRecord(
            r,
            impact_text(r.points_per_unit, r.impact_unit, points_name),
            totals.get(r.id, CauseTotals()),
        )
        for r in rows
    ]
