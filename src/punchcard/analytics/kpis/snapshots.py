"""Reading and writing the monthly column sets (`analytics_snapshots`).

A snapshot of kind orders, events, campaigns or rewards holds one program's rows of one
calendar month whose event is inside the `kpi_events` bounds (bounds.py); the member snapshot
holds the members inside `kpi_members`. A read takes the bounds, the snapshots and every row
outside the bounds in the summary's one database snapshot (sql.tune, beside.py): the answer is
current and whole whatever the job commits meanwhile. What a snapshot cannot see is a later
change to a row it holds (a refund, a code used or cancelled, the program's currency); the job
rebuilds those months on its next run (refresh.py), the one staleness of the summary
(docs/kpis.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import wait
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete
from sqlalchemy.orm import Session

from punchcard.analytics.kpis import beside, bounds
from punchcard.analytics.kpis import columns as col
from punchcard.analytics.kpis import snapshot_sql as q
from punchcard.analytics.kpis.bounds import Bounds
from punchcard.analytics.kpis.columns import Ints
from punchcard.analytics.kpis.sql import epoch_day, integer, joined_ids, statement
from punchcard.models.analytics import Snapshot
from punchcard.models.base import table_of

# The bounds (analytics_rollups rows) of events, with their orders, awards and codes used; of
# members; and of changes to redemptions (a time bound only).
EVENTS = "kpi_events"
MEMBERS = "kpi_members"
CHANGES = "kpi_changes"
KINDS = ("orders", "events", "campaigns", "rewards")
ORDER_COLUMNS = ("member", "day", "net", "counted")
EVENT_COLUMNS = ("member", "day")
CAMPAIGN_COLUMNS = ("day", "key", "awards", "points", "orders", "revenue")
REWARD_COLUMNS = ("day", "key", "orders", "revenue")
MEMBER_COLUMNS = ("id", "created", "channel")


def _rows(session: Session, sql: str, parts: dict[str, str], values: dict[str, Any]) -> list[Any]:
    day = parts.pop("day")
    text = q.render(sql, day=epoch_day(session, day), **parts)
    return list(session.execute(statement(text), values).all())


def _ints(rows: Sequence[Sequence[Any]], width: int) -> NDArray[np.int64]:
    if not rows:
        return np.zeros((0, width), dtype=np.int64)
    return np.array([[integer(v) for v in r] for r in rows], dtype=np.int64).reshape(-1, width)


def _named(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> dict[str, NDArray[Any]]:
    """Rows whose first value is a name: the names become codes into a `names` column."""
    labels = sorted({str(r[0]) for r in rows})
    code = {n: i for i, n in enumerate(labels)}
    table = _ints([(code[str(r[0])], *r[1:]) for r in rows], len(names) + 1)
    result: dict[str, NDArray[Any]] = {"key": table[:, 0]}
    result.update({n: table[:, i + 1] for i, n in enumerate(names)})
    result["names"] = np.array(labels, dtype=str)
    return result


def _parts(kind: str, tail: bool) -> tuple[str, dict[str, str]]:
    """The statement of a kind, and what fills it for a month or for the tail."""
    if kind == "events":
        return q.EVENTS, {"day": "e.occurred_at", "where": q.OUTSIDE if tail else q.EVENTS_MONTH}
    if kind == "campaigns":
        source = q.TAIL_AWARDS if tail else q.MONTH_AWARDS
        where = q.OUTSIDE if tail else q.AWARDS_MONTH
        return q.CAMPAIGNS, {"day": "a.occurred_at", "source": source, "where": where}
    sql = q.ORDERS if kind == "orders" else q.REWARDS
    if tail:
        parts = {"head": q.TAIL_ORDERS_FIRST, "source": "tail o", "where": "1 = 1"}
    else:
        parts = {"head": "", "source": q.MONTH_ORDERS, "where": q.ORDERS_MONTH}
    return sql, {"day": "o.placed_at", **parts}


def fetch(
    session: Session, kind: str, program_id: int, currency: str, where: dict[str, Any]
) -> dict[str, Any]:
    """One kind's columns for a month inside the bounds (`where` has lo_at, hi_at, wm, wu)
    or for the rows outside them (the tail: wm and wu only)."""
    sql, parts = _parts(kind, tail="lo_at" not in where)
    rows = _rows(session, sql, parts, {"p": program_id, "currency": currency, **where})
    if kind == "orders":
        return dict(zip(ORDER_COLUMNS, _ints(rows, 4).T, strict=True))
    if kind == "events":
        return dict(zip(EVENT_COLUMNS, _ints(rows, 2).T, strict=True))
    if kind == "campaigns":
        return _named(rows, ("day", *CAMPAIGN_COLUMNS[2:]))
    return _named(rows, ("day", *REWARD_COLUMNS[2:]))


def fetch_members(session: Session, program_id: int, where: str, bounds: Bounds) -> dict[str, Any]:
    values = {"p": program_id, "mwm": bounds.last_id, "mwu": bounds.until}
    rows = _rows(session, q.MEMBERS, {"day": "created_at", "where": where}, values)
    channels = sorted({str(r[1]) for r in rows})
    code = {c: i for i, c in enumerate(channels)}
    table = _ints([(r[0], r[2], code[str(r[1])]) for r in rows], 3)
    result: dict[str, Any] = dict(zip(MEMBER_COLUMNS, table.T, strict=True))
    result["names"] = np.array(channels, dtype=str)
    return result


def save(
    session: Session,
    program_id: int,
    kind: str,
    month: int,
    data: dict[str, Any],
    *,
    currency: str,
    now: datetime,
) -> None:
    table = table_of(Snapshot)
    session.execute(
        delete(table).where(
            table.c.program_id == program_id, table.c.kind == kind, table.c.month == month
        )
    )
    rows = len(next(iter(data.values()))) if data else 0
    days = data.get("created" if kind == "members" else "day")
    first = col.EPOCH + timedelta(days=int(days.min())) if days is not None and len(days) else None
    session.execute(
        table.insert().values(
            program_id=program_id,
            kind=kind,
            month=month,
            currency=currency,
            rows=rows,
            first_day=first,
            built_at=now,
            data=col.pack(data),
        )
    )


@dataclass
class Loaded:
    """The column sets of a range (snapshots and live tail joined), names recoded to one list
    per kind. `stale`: some months were built in another currency than the program's now (the
    job builds them again on its next run)."""

    members: dict[str, Ints]
    channels: list[str]
    orders: dict[str, Ints]
    events: dict[str, Ints]
    campaigns: dict[str, Ints]
    rules: list[str]
    rewards: dict[str, Ints]
    reward_keys: list[str]
    tiers: dict[str, Ints]  # member ids per stored tier, read live
    stale: bool = False


def _tails(
    session: Session, program_id: int, currency: str, events: Bounds, members: Bounds
) -> dict[str, Any]:
    """The rows outside the bounds, of every kind, and the current tiers."""
    where = {"wm": events.last_id, "wu": events.until}
    found = {kind: fetch(session, kind, program_id, currency, where) for kind in KINDS}
    found["members"] = fetch_members(session, program_id, q.MEMBERS_TAIL, members)
    found["tiers"] = tier_members(session, program_id)
    return found


def load(
    session: Session,
    program_id: int,
    currency: str,
    span: tuple[date, date, date, date],
) -> Loaded:
    """`span`: the churn window's first day, the activity window's first day, the range's
    first day and the day after its last. The tails are read beside (beside.py) while this
    thread decompresses the snapshots: the database and numpy work at the same time."""
    since, a90, start, stop = span
    last = col.month_number(stop) if stop.day > 1 else col.month_number(stop) - 1
    values = {
        "p": program_id,
        "m2": last,
        "e1": col.month_number(a90),
        "o1": col.month_number(since),
        "c1": col.month_number(start),
    }
    events, members = bounds.current(session, EVENTS), bounds.current(session, MEMBERS)
    pending = beside.start(
        session, lambda other: _tails(other, program_id, currency, events, members)
    )
    parts: dict[str, list[dict[str, Any]]] = {k: [] for k in (*KINDS, "members")}
    stale = False
    try:
        for kind, _month, data, built_in in session.execute(statement(q.LOAD), values):
            parts[kind].append(col.unpack(data))
            stale = stale or (kind != "members" and built_in != currency)
    except BaseException:
        wait([pending])  # the snapshot must outlive the read beside it
        raise
    tails = pending.result()
    tiers = tails.pop("tiers")
    for kind, rows in tails.items():
        parts[kind].append(rows)
    return _joined(parts, stale, tiers)


def _joined(parts: dict[str, list[dict[str, Any]]], stale: bool, tiers: dict[str, Ints]) -> Loaded:
    """Snapshots and tails end to end, names recoded to one list per kind."""
    channels: dict[str, int] = {}
    rules: dict[str, int] = {}
    keys: dict[str, int] = {}
    for part in parts["members"]:
        part["channel"] = col.recode(part["channel"], list(part["names"]), channels)
    for kind, into in (("campaigns", rules), ("rewards", keys)):
        for part in parts[kind]:
            part["key"] = col.recode(part["key"], list(part["names"]), into)
    return Loaded(
        members=col.stack(parts["members"], MEMBER_COLUMNS),
        channels=list(channels),
        orders=col.stack(parts["orders"], ORDER_COLUMNS),
        events=col.stack(parts["events"], EVENT_COLUMNS),
        campaigns=col.stack(parts["campaigns"], CAMPAIGN_COLUMNS),
        rules=list(rules),
        rewards=col.stack(parts["rewards"], REWARD_COLUMNS),
        reward_keys=list(keys),
        tiers=tiers,
        stale=stale,
    )


def tier_members(session: Session, program_id: int) -> dict[str, Ints]:
    """Member ids per stored tier, read live (one row per member holding a tier)."""
    sql = q.TIERS.format(ids=joined_ids(session, "member_id"))
    rows = session.execute(statement(sql), {"p": program_id}).all()
    return {str(t): np.array(str(ids).split(","), dtype=np.int64) for t, ids in rows}


def first_day(session: Session, program_id: int) -> date | None:
    """The program's first recorded day: the earliest of its snapshots' first days and of the
    rows outside the bounds (read in the summary's snapshot, like everything else)."""
    kept = session.execute(statement(q.FIRST_KEPT), {"p": program_id}).scalar()
    events, members = bounds.current(session, EVENTS), bounds.current(session, MEMBERS)
    values = {
        "p": program_id,
        "wm": events.last_id,
        "wu": events.until,
        "mwm": members.last_id,
        "mwu": members.until,
    }
    live = session.execute(statement(q.render(q.FIRST_LIVE)), values).scalar()
    found = [_day(v) for v in (kept, live) if v is not None]
    return min(found) if found else None


def _day(value: Any) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value
