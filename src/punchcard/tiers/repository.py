"""Every SQL statement of tiers: policies, the tier each member holds, tier history, the tier
events, and the qualifying metric."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import Event, MemberTier, TierChange, TierPolicy
from punchcard.models.base import table_of
from punchcard.rawsql import Raw
from punchcard.tiers.domain import Change, Held, Metric

EARLIEST = datetime(1, 1, 1, tzinfo=UTC)  # "from the beginning", as a bound SQL can compare

# One row per measured span: (position, member, lo, hi); a member may have several.
_SPANS_PG = "unnest(?::bigint[], ?::bigint[], ?::timestamp[], ?::timestamp[]) AS s(i, m, lo, hi)"
_SPANS_SQLITE = (
    "(SELECT json_extract(value, '$[0]') AS i, json_extract(value, '$[1]') AS m, "
    "json_extract(value, '$[2]') AS lo, json_extract(value, '$[3]') AS hi FROM json_each(?)) AS s"
)
# Spend: order totals less refunds, in cents (SQLite keeps NUMERIC as REAL: summing whole
# cents stays exact). Points: earn transactions less what reversals took back from them.
_SPEND = (
    "SELECT s.i, coalesce(sum(round((o.total - o.refunded_amount) * 100)), 0) FROM {spans} "
    "LEFT JOIN orders o ON o.program_id = ? AND o.member_id = s.m "
    "AND o.placed_at >= s.lo AND o.placed_at < s.hi GROUP BY s.i"
)
_POINTS = (
    "SELECT s.i, coalesce(sum(t.points - coalesce((SELECT sum(r.points) FROM "
    "ledger_transactions r WHERE r.reverses_id = t.id), 0)), 0) FROM {spans} "
    "LEFT JOIN ledger_transactions t ON t.program_id = ? AND t.member_id = s.m "
    "AND t.kind = 'earn' AND t.occurred_at >= s.lo AND t.occurred_at < s.hi GROUP BY s.i"
)
_METRIC_SQL = {
    (metric, postgres): sql.format(spans=_SPANS_PG if postgres else _SPANS_SQLITE)
    for metric, sql in ((Metric.SPEND, _SPEND), (Metric.POINTS, _POINTS))
    for postgres in (True, False)
}
_HELD_SQL = (
    "SELECT t.member_id, t.tier, t.since, t.valid_until, t.granted FROM member_tiers t "
    "JOIN members m ON m.id = t.member_id AND m.program_id = t.program_id "
    "WHERE t.program_id = ? AND "
)
Span = tuple[int, datetime | None, datetime]  # member, lo (None: from the beginning), hi


@dataclass(frozen=True)
class PolicyRow:
    metric: str
    window: str
    downgrade: str
    grace_days: int
    tiers: list[dict[str, Any]]
    version: int
    updated_at: datetime


def get_policy(session: Session, program_id: int) -> PolicyRow | None:
    row = session.execute(
        select(
            TierPolicy.metric,
            TierPolicy.qualification_window,
            TierPolicy.downgrade,
            TierPolicy.grace_days,
            TierPolicy.tiers,
            TierPolicy.version,
            TierPolicy.updated_at,
        ).where(TierPolicy.program_id == program_id)
    ).one_or_none()
    if row is None:
        return None
    return PolicyRow(row[0], row[1], row[2], int(row[3]), json.loads(row[4]), row[5], row[6])


def save_policy(session: Session, program_id: int, values: dict[str, Any], now: datetime) -> int:
    """Replace the policy; its version goes up by one (1 for the first)."""
    bumped = session.execute(
        update(TierPolicy)
        .where(TierPolicy.program_id == program_id)
        .values(**values, version=TierPolicy.version + 1, updated_at=now)
        .returning(TierPolicy.version)
    ).scalar_one_or_none()
    if bumped is not None:
        return int(bumped)
    session.execute(
        insert(table_of(TierPolicy)).values(
            program_id=program_id, **values, version=1, updated_at=now
        )
    )
    return 1


def tiers_held(session: Session, program_id: int) -> set[str]:
    return set(
        session.execute(
            select(MemberTier.tier).where(MemberTier.program_id == program_id).distinct()
        ).scalars()
    )


def _held(row: Any) -> Held:
    return Held(row.tier, row.since, row.valid_until, bool(row.granted))


_HELD_COLUMNS = (
    MemberTier.member_id,
    MemberTier.tier,
    MemberTier.since,
    MemberTier.valid_until,
    MemberTier.granted,
)


def stored_tier(session: Session, program_id: int, member_id: int) -> Held | None:
    row = session.execute(
        select(*_HELD_COLUMNS).where(
            MemberTier.program_id == program_id, MemberTier.member_id == member_id
        )
    ).one_or_none()
    return None if row is None else _held(row)


def stored_tiers(session: Session, program_id: int, members: Sequence[int]) -> dict[int, Held]:
    rows = session.execute(
        select(*_HELD_COLUMNS).where(
            MemberTier.program_id == program_id, MemberTier.member_id.in_(sorted(members))
        )
    ).all()
    return {int(r.member_id): _held(r) for r in rows}


def held_tier(session: Session, program_id: int, member_id: int) -> str | None:
    """The name of the tier the member holds now, or None: a member without a stored tier
    holds the program's base tier (its lowest, when that asks for nothing)."""
    found = session.execute(
        select(MemberTier.tier).where(
            MemberTier.program_id == program_id, MemberTier.member_id == member_id
        )
    ).scalar_one_or_none()
    if found is not None:
        return str(found)
    policy = get_policy(session, program_id)
    if policy is None or not policy.tiers:
        return None
    floor = next((t for t in policy.tiers if not t.get("invitation_only")), None)
    if floor is None or Decimal(str(floor["threshold"])) != 0:
        return None
    return str(floor["name"])


def held_cursor(raw: Raw, program_id: int, member_match: str, params: Sequence[Any]) -> Any:
    """The stored tiers of a batch's members (`member_match` is on `members m`), issued in the
    caller's pipeline; read them with `held_rows`."""
    return raw.cursor(_HELD_SQL + member_match, [program_id, *params])


def held_rows(raw: Raw, cursor: Any) -> dict[int, Held]:
    return {
        int(m): Held(tier, raw.read_moment(since), raw.read_moment(until), bool(granted))
        for m, tier, since, until, granted in cursor.fetchall()
    }


def metrics(
    source: Session | Raw, program_id: int, metric: Metric, spans: Sequence[Span]
) -> list[Decimal]:
    """The qualifying metric of each span, in one statement however many members and spans."""
    if not spans:
        return []
    raw = source if isinstance(source, Raw) else Raw(source)
    rows = [
        (i, m, raw.moment(lo or EARLIEST), raw.moment(hi)) for i, (m, lo, hi) in enumerate(spans)
    ]
    if raw.postgres:  # four arrays, one per column
        params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
    else:
        params = [json.dumps(rows)]
    cursor = raw.cursor(_METRIC_SQL[(metric, raw.postgres)], [*params, program_id])
    with raw.guard():
        found = {int(i): value for i, value in cursor.fetchall()}
    if metric is Metric.SPEND:
        return [Decimal(int(found[i])) / 100 for i in range(len(spans))]
    return [Decimal(int(found[i])) for i in range(len(spans))]


def save_held(session: Session, program_id: int, member_id: int, held: Held, now: datetime) -> None:
    """Store the member's tier (no tier: no row)."""
    if held.tier is None:
        session.execute(
            delete(MemberTier).where(
                MemberTier.program_id == program_id, MemberTier.member_id == member_id
            )
        )
        return
    values = {
        "tier": held.tier,
        "since": held.since,
        "valid_until": held.valid_until,
        "granted": held.granted,
        "updated_at": now,
    }
    session.execute(
        insert_or_skip(session, table_of(MemberTier))
        .values(program_id=program_id, member_id=member_id, **values)
        .on_conflict_do_update(index_elements=["program_id", "member_id"], set_=values)
    )


def record_change(
    session: Session, program_id: int, member_id: int, change: Change, now: datetime
) -> int:
    """A history row, and for a move up or down the tier event beside it."""
    values = {"program_id": program_id, "member_id": member_id, **change_values(change)}
    change_id = int(
        session.execute(
            insert(table_of(TierChange)).values(**values, created_at=now).returning(TierChange.id)
        ).scalar_one()
    )
    if change.event is not None:
        session.execute(
            insert(table_of(Event)).values(
                program_id=program_id, member_id=member_id, **event_values(change_id, change, now)
            )
        )
    return change_id


def change_values(change: Change) -> dict[str, Any]:
    return {
        "change": change.kind.value,
        "from_tier": change.from_tier,
        "to_tier": change.to_tier,
        "metric_value": change.metric_value,
        "valid_until": change.valid_until,
        "reason": change.reason[:500],
        "occurred_at": change.occurred_at,
    }


def event_values(change_id: int, change: Change, now: datetime) -> dict[str, Any]:
    """The tier event's row: a record for history and webhooks, never evaluated by rules."""
    assert change.event is not None
    data = {
        "from": change.from_tier,
        "to": change.to_tier,
        "change": change.kind.value,
        "valid_until": None if change.valid_until is None else change.valid_until.isoformat(),
        "metric_value": change.metric_value,
        "reason": change.reason,
    }
    return {
        "source_id": f"tier-change:{change_id}",
        "type": change.event,
        "occurred_at": change.occurred_at,
        "channel": "other",
        "store_id": None,
        "data": json.dumps(data, separators=(",", ":")),
        "created_at": now,
    }


def history(
    session: Session, program_id: int, member_id: int, *, before_id: int | None, limit: int
) -> list[TierChange]:
    query = (
        select(TierChange)
        .where(TierChange.program_id == program_id, TierChange.member_id == member_id)
        .order_by(TierChange.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(TierChange.id < before_id)
    return list(session.execute(query).scalars())


def due_members(
    session: Session, now: datetime, limit: int, after: tuple[int, int], program_id: int | None
) -> list[tuple[int, int]]:
    """(program, member) pairs whose tier's validity has run out by `now` (grace not yet
    considered), in key order after `after`."""
    query = (
        select(MemberTier.program_id, MemberTier.member_id)
        .where(
            MemberTier.valid_until.is_not(None),
            MemberTier.valid_until <= now,
            (MemberTier.program_id > after[0])
            | ((MemberTier.program_id == after[0]) & (MemberTier.member_id > after[1])),
        )
        .order_by(MemberTier.program_id, MemberTier.member_id)
        .limit(limit)
    )
    if program_id is not None:
        query = query.where(MemberTier.program_id == program_id)
    return [(int(p), int(m)) for p, m in session.execute(query).all()]


_TIER_AT_SQL = (
    "SELECT to_tier FROM tier_changes WHERE program_id = ? AND member_id = ? AND occurred_at <= ? "
    "ORDER BY occurred_at DESC, id DESC LIMIT 1"
)


def tier_at(
    source: Session | Raw, program_id: int, member_id: int, at: datetime
) -> tuple[bool, str | None]:
    """The tier the member's history says they held at `at`: (False, None) when no change
    came before it. Only events dated before the member's current tier was reached ask: a
    late event earns at the tier its member held when it happened."""
    raw = source if isinstance(source, Raw) else Raw(source)
    cursor = raw.cursor(_TIER_AT_SQL, [program_id, member_id, raw.moment(at)])
    with raw.guard():
        row = cursor.fetchone()
    return (False, None) if row is None else (True, row[0])
