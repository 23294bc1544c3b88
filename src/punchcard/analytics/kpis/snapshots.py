"""Reading and writing the monthly column sets (`analytics_snapshots`).

A snapshot of kind orders, events, campaigns or rewards holds one program's rows of one
calendar month whose event is inside the `kpi_events` bounds (bounds.py); the member snapshot
holds the members inside `kpi_members`. A read loads the snapshots and both bounds in one
statement (one database snapshot), then every row outside the bounds live: the answer is
current whatever the job did meanwhile. What a snapshot cannot see is a later change to a row
it holds (a refund, a code used or cancelled, the program's currency); the job rebuilds those
months on its next run (refresh.py), the one staleness of the summary (docs/kpis.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete
from sqlalchemy.orm import Session

from punchcard.analytics.kpis import columns as col
from punchcard.analytics.kpis import snapshot_sql as q
from punchcard.analytics.kpis.bounds import EPOCH, Bounds
from punchcard.analytics.kpis.columns import Ints
from punchcard.analytics.kpis.sql import epoch_day, integer, joined_ids, statement
from punchcard.models.analytics import Snapshot
from punchcard.models.base import table_of

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
    source = q.TAIL_ORDERS if tail else q.MONTH_ORDERS
    where = q.OUTSIDE if tail else q.ORDERS_MONTH
    sql = q.ORDERS if kind == "orders" else q.REWARDS
    return sql, {"day": "o.placed_at", "source": source, "where": where}


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
    session.execute(
        table.insert().values(
            program_id=program_id,
            kind=kind,
            month=month,
            currency=currency,
            rows=rows,
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
    stale: bool = False


def _bounds(last_id: Any, until: Any) -> Bounds:
    """Bounds as the untyped columns of LOAD give them (a string on SQLite, naive UTC)."""
    if last_id is None or until is None:
        return Bounds(0, EPOCH)
    moment = datetime.fromisoformat(until) if isinstance(until, str) else until
    return Bounds(integer(last_id), moment.replace(tzinfo=UTC))


def load(
    session: Session,
    program_id: int,
    currency: str,
    span: tuple[date, date, date, date],
) -> Loaded:
    """`span`: the churn window's first day, the activity window's first day, the range's
    first day and the day after its last."""
    since, a90, start, stop = span
    last = col.month_number(stop) if stop.day > 1 else col.month_number(stop) - 1
    values = {
        "p": program_id,
        "m2": last,
        "e1": col.month_number(a90),
        "o1": col.month_number(since),
        "c1": col.month_number(start),
    }
    found = session.execute(statement(q.LOAD), values).all()
    # No snapshot in reach: every row is read live, whatever the bounds.
    events = _bounds(*found[0][4:6]) if found else Bounds(0, EPOCH)
    members = _bounds(*found[0][6:8]) if found else Bounds(0, EPOCH)
    parts: dict[str, list[dict[str, Any]]] = {k: [] for k in (*KINDS, "members")}
    stale = False
    for kind, _month, data, built_in, *_ in found:
        parts[kind].append(col.unpack(data))
        stale = stale or (kind != "members" and built_in != currency)
    for kind in KINDS:
        where = {"wm": events.last_id, "wu": events.until}
        parts[kind].append(fetch(session, kind, program_id, currency, where))
    # After the other tails, so that it holds every member their rows name.
    parts["members"].append(fetch_members(session, program_id, q.MEMBERS_TAIL, members))
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
        stale=stale,
    )


def tier_members(session: Session, program_id: int) -> dict[str, Ints]:
    """Member ids per stored tier, read live (one row per member holding a tier)."""
    sql = q.TIERS.format(ids=joined_ids(session, "member_id"))
    rows = session.execute(statement(sql), {"p": program_id}).all()
    return {str(t): np.array(str(ids).split(","), dtype=np.int64) for t, ids in rows}
