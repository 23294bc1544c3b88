"""Moving the monthly snapshots on: the job's half of snapshots.py, never the earn path.

Bounds move as the points rollup's do (bounds.py): events (`kpi_events`) and members
(`kpi_members`) by id and creation time, taken once no transaction that could still commit
inside them is running. The months the rows of a step fall on are built again from the
tables, and so are the months of rows that changed after their snapshot was built: orders named
by a refund or cancellation among the step's events (their awards too), orders a code was used
on or cancelled for within the step of `kpi_changes` (a time bound on redemptions'
`updated_at`, moved the same safe way), and months built in another currency than the
program's now. Until the next run those changes are the one staleness of the summary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis import bounds, snapshots
from punchcard.analytics.kpis import columns as col
from punchcard.analytics.kpis import snapshot_sql as q
from punchcard.analytics.kpis.bounds import SETTLE, Step
from punchcard.analytics.kpis.domain import midnight
from punchcard.analytics.kpis.sql import epoch_day, integer, statement
from punchcard.models.event import Event
from punchcard.models.member import Member
from punchcard.models.program import Program

EVENTS, MEMBERS, CHANGES = snapshots.EVENTS, snapshots.MEMBERS, snapshots.CHANGES


def _days(session: Session, sql: str, values: Mapping[str, object]) -> set[tuple[int, int]]:
    text = q.render(
        sql,
        e_day=epoch_day(session, "e.occurred_at"),
        o_day=epoch_day(session, "o.placed_at"),
        a_day=epoch_day(session, "a.occurred_at"),
    )
    rows = session.execute(statement(text), values).all()
    return {
        (integer(r[0]), col.month_number(col.EPOCH + timedelta(days=integer(r[1])))) for r in rows
    }


def dirty_months(session: Session, step: Step | None, changes: Step | None) -> set[tuple[int, int]]:
    """(program, month) pairs to build again."""
    found: set[tuple[int, int]] = set()
    if step is not None:
        values = step.values()
        found |= _days(session, q.NEW_DAYS, values)
        for program_id, data in session.execute(statement(q.render(q.REFUNDS)), values).all():
            order_id = json.loads(data).get("order_id") if data else None
            if order_id is not None:
                found |= _days(
                    session, q.REFUNDED_DAYS, {"p": integer(program_id), "order_id": str(order_id)}
                )
    if changes is not None:
        found |= _days(session, q.CODE_DAYS, changes.values())
    rebuilt = session.execute(statement(q.OTHER_CURRENCY)).all()
    found |= {(integer(p), integer(m)) for p, m in rebuilt}
    return found


def _top(session: Session, column: object) -> int:
    return integer(session.execute(select(func.coalesce(func.max(column), 0))).scalar_one())


def refresh(session: Session, *, now: datetime, settle: timedelta = SETTLE) -> int:
    """Build again what the settled new and changed rows touch; how many month snapshots."""
    changes = bounds.advance(session, CHANGES, top=0, now=now, settle=settle)
    step = bounds.advance(session, EVENTS, top=_top(session, Event.id), now=now, settle=settle)
    months = dirty_months(session, step, changes)
    inside = bounds.current(session, EVENTS)
    currencies = {int(i): str(c) for i, c in session.execute(select(Program.id, Program.currency))}
    for program_id, month in sorted(months):
        currency = currencies[program_id]
        where = {
            "lo_at": midnight(col.month_start(month)),
            "hi_at": midnight(col.month_stop(month)),
            "wm": inside.last_id,
            "wu": inside.until,
        }
        for kind in snapshots.KINDS:
            data = snapshots.fetch(session, kind, program_id, currency, where)
            snapshots.save(session, program_id, kind, month, data, currency=currency, now=now)
    members = bounds.advance(session, MEMBERS, top=_top(session, Member.id), now=now, settle=settle)
    if members is not None:
        for (found,) in session.execute(statement(q.NEW_MEMBER_PROGRAMS), members.values()).all():
            program_id = integer(found)
            data = snapshots.fetch_members(session, program_id, q.MEMBERS_ALL, members.new)
            snapshots.save(
                session, program_id, "members", 0, data, currency=currencies[program_id], now=now
            )
    session.flush()
    return len(months)
