"""Every SQL statement of badges: definitions, member facts in one statement, awards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    cast,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from punchcard.badges.domain import ITEMS_EVENT, JOB_KINDS, Kind, MemberFacts, Needs
from punchcard.db import insert_or_skip, rowcount
from punchcard.models import (
    Event,
    Member,
    MemberTier,
    Order,
    Redemption,
    TierChange,
    TierPolicy,
)
from punchcard.models.badge import Badge, MemberBadge
from punchcard.models.base import table_of

# Order statuses that no longer count as an order: the whole order given back (a
# cancellation records the order as fully refunded; "cancelled" in case it ever is one).
GONE = ("refunded", "cancelled")
_LAST_ID = 2**63 - 1


def insert_badge(session: Session, values: dict[str, Any]) -> int:
    return int(
        session.execute(insert(table_of(Badge)).values(**values).returning(Badge.id)).scalar_one()
    )


def update_badge(session: Session, program_id: int, badge_id: int, values: dict[str, Any]) -> bool:
    result = session.execute(
        update(table_of(Badge))
        .where(Badge.program_id == program_id, Badge.id == badge_id)
        .values(**values)
    )
    return rowcount(result) == 1


def badge_row(session: Session, program_id: int, badge_id: int) -> Any | None:
    """One badge of the program; another program's badge is as absent as a missing one."""
    return session.execute(
        select(table_of(Badge)).where(Badge.program_id == program_id, Badge.id == badge_id)
    ).one_or_none()


def badge_page(
    session: Session, program_id: int, *, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    query = (
        select(table_of(Badge))
        .where(Badge.program_id == program_id, Badge.id > after_id)
        .order_by(Badge.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(Badge.active.is_(active))
    return list(session.execute(query).all())


def any_active(session: Session, program_id: int) -> bool:
    found = session.execute(
        select(Badge.id).where(Badge.program_id == program_id, Badge.active.is_(True)).limit(1)
    ).first()
    return found is not None


def _earned_by(program_id: int, member_id: int) -> Any:
    return exists().where(
        MemberBadge.program_id == program_id,
        MemberBadge.badge_id == Badge.id,
        MemberBadge.member_id == member_id,
    )


def unearned(
    session: Session, program_id: int, member_id: int, kinds: Sequence[Kind] | None = None
) -> list[Any]:
    """The program's active badges the member has not earned, in one statement."""
    query = (
        select(table_of(Badge))
        .where(
            Badge.program_id == program_id,
            Badge.active.is_(True),
            ~_earned_by(program_id, member_id),
        )
        .order_by(Badge.id)
    )
    if kinds is not None:
        query = query.where(Badge.kind.in_([k.value for k in kinds]))
    return list(session.execute(query).all())


def _items(session: Session) -> Any:
    """The `items` of a recycling event's JSON data, as a number, in the session's dialect
    (the event schema makes it a whole number for that type)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal_column("CAST(events.data AS jsonb) ->> 'items'"), BigInteger)
    return func.json_extract(Event.data, "$.items")


def member_facts(
    session: Session,
    program_id: int,
    member_id: int,
    needs: Needs,
    *,
    leave_out: str | None = None,
    until: datetime | None = None,
) -> MemberFacts | None:
    """Everything the badges need about the member, in one statement whatever their number;
    None for a member the program does not have. `leave_out`: an event (source id) the
    caller counts itself, as its row may or may not carry the member yet. `until`: count
    only rows dated at or before it (at that very moment, those written before the
    `leave_out` event): a batch's later events are already written when its earlier ones
    are handled. Orders fully refunded or cancelled do not count."""
    here = None
    if leave_out is not None:  # the handled event's row id (none yet: every row is older)
        here = func.coalesce(
            select(Event.id)
            .where(Event.program_id == program_id, Event.source_id == leave_out)
            .scalar_subquery(),
            _LAST_ID,
        )

    def dated(at: Any, row_id: Any) -> Any:
        if until is None:
            return true()
        if here is None:
            return at <= until
        return or_(at < until, and_(at == until, row_id <= here))

    def events_of(kind: str) -> Any:
        query = (
            select(func.count())
            .select_from(Event)
            .where(
                Event.program_id == program_id,
                Event.member_id == member_id,
                Event.type == kind,
                dated(Event.occurred_at, Event.id),
            )
        )
        return query if leave_out is None else query.where(Event.source_id != leave_out)

    columns: list[Any] = [Member.created_at.label("since")]
    if needs.orders:
        orders = select(func.count()).select_from(Order)
        orders = orders.where(
            Order.program_id == program_id,
            Order.member_id == member_id,
            Order.status.notin_(GONE),
            dated(Order.placed_at, Order.event_id),
        )
        columns.append(orders.scalar_subquery().label("orders"))
    kinds = sorted(needs.events)
    columns += [events_of(k).scalar_subquery().label(f"e{i}") for i, k in enumerate(kinds)]
    if needs.items:
        items = events_of(ITEMS_EVENT).with_only_columns(
            func.coalesce(func.sum(_items(session)), 0)
        )
        columns.append(items.scalar_subquery().label("items"))
    if needs.donations:
        donations = (
            select(func.count())
            .select_from(Redemption)
            .where(
                Redemption.program_id == program_id,
                Redemption.member_id == member_id,
                Redemption.type == "donation",
                Redemption.status != "cancelled",
            )
        )
        columns.append(donations.scalar_subquery().label("donations"))
    if needs.tier:
        held = select(MemberTier.tier).where(
            MemberTier.program_id == program_id, MemberTier.member_id == member_id
        )
        ladder = select(TierPolicy.tiers).where(TierPolicy.program_id == program_id)
        columns += [held.scalar_subquery().label("tier"), ladder.scalar_subquery().label("ladder")]
    row = session.execute(
        select(*columns).where(Member.program_id == program_id, Member.id == member_id)
    ).one_or_none()
    if row is None:
        return None
    found = row._mapping
    names, tier = _tiers(found.get("ladder"), found.get("tier"))
    return MemberFacts(
        member_since=found["since"],
        orders=int(found.get("orders") or 0),
        events={k: int(found[f"e{i}"] or 0) for i, k in enumerate(kinds)},
        items=int(Decimal(str(found.get("items") or 0))),
        donations=int(found.get("donations") or 0),
        tier=tier,
        ladder=names,
    )


def _tiers(ladder: str | None, stored: str | None) -> tuple[tuple[str, ...], str | None]:
    """The ladder's names, and the tier held: a member without a stored tier holds the base
    tier (the lowest one open to all, when it asks for nothing), as tiers decide."""
    if ladder is None:
        return (), stored
    tiers = json.loads(ladder)
    names = tuple(str(t["name"]) for t in tiers)
    if stored is not None:
        return names, stored
    floor = next((t for t in tiers if not t.get("invitation_only")), None)
    if floor is not None and Decimal(str(floor["threshold"])) == 0:
        return names, str(floor["name"])
    return names, None


def tier_names(session: Session, program_id: int) -> list[str] | None:
    """The program's tier names, lowest first; None before it has a tier policy."""
    raw = session.execute(
        select(TierPolicy.tiers).where(TierPolicy.program_id == program_id)
    ).scalar_one_or_none()
    return None if raw is None else [str(t["name"]) for t in json.loads(raw)]


def insert_awards(session: Session, rows: list[dict[str, Any]]) -> set[tuple[int, int]]:
    """Insert awards, skipping any the member already has (even one a concurrent transaction
    just wrote): the (badge, member) pairs actually inserted."""
    if not rows:
        return set()
    statement = (
        insert_or_skip(session, table_of(MemberBadge))
        .values(rows)
        .on_conflict_do_nothing(index_elements=["program_id", "badge_id", "member_id"])
        .returning(MemberBadge.badge_id, MemberBadge.member_id)
    )
    return {(int(b), int(m)) for b, m in session.execute(statement).all()}


def earned(session: Session, program_id: int, member_id: int) -> list[Any]:
    """The member's badges with their names, newest first."""
    return list(
        session.execute(
            select(
                MemberBadge.badge_id,
                MemberBadge.source_id,
                MemberBadge.points,
                MemberBadge.occurred_at,
                MemberBadge.awarded_at,
                Badge.name,
                Badge.description,
                Badge.image_url,
            )
            .join(Badge, Badge.id == MemberBadge.badge_id)
            .where(MemberBadge.program_id == program_id, MemberBadge.member_id == member_id)
            .order_by(MemberBadge.awarded_at.desc(), MemberBadge.id.desc())
        ).all()
    )


def earned_one(session: Session, program_id: int, member_id: int, badge_id: int) -> Any | None:
    return next((r for r in earned(session, program_id, member_id) if r.badge_id == badge_id), None)


# --- the job ------------------------------------------------------------------------------


def job_badges(session: Session) -> list[Any]:
    """Active badges the job awards (member years, tiers reached), every program's."""
    return list(
        session.execute(
            select(table_of(Badge))
            .where(
                Badge.active.is_(True),
                Badge.kind.in_([k.value for k in JOB_KINDS]),
            )
            .order_by(Badge.program_id, Badge.id)
        ).all()
    )


def _lacking(program_id: int, badge_id: int, member: Any) -> Any:
    return ~exists().where(
        MemberBadge.program_id == program_id,
        MemberBadge.badge_id == badge_id,
        MemberBadge.member_id == member,
    )


def members_since(
    session: Session, program_id: int, badge_id: int, cutoff: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Members enrolled by `cutoff` without the badge: (member, enrolled at)."""
    rows = session.execute(
        select(Member.id, Member.created_at)
        .where(
            Member.program_id == program_id,
            Member.created_at <= cutoff,
            _lacking(program_id, badge_id, Member.id),
        )
        .order_by(Member.id)
        .limit(limit)
    ).all()
    return [(int(m), at) for m, at in rows]


def members_holding(
    session: Session, program_id: int, badge_id: int, tiers: list[str], limit: int
) -> list[tuple[int, datetime, int | None]]:
    """Members holding one of `tiers` without the badge: (member, since, the id of the
    latest tier change that gave them the tier they hold)."""
    change = (
        select(func.max(TierChange.id))
        .where(
            TierChange.program_id == program_id,
            TierChange.member_id == MemberTier.member_id,
            TierChange.to_tier == MemberTier.tier,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(MemberTier.member_id, MemberTier.since, change)
        .where(
            MemberTier.program_id == program_id,
            MemberTier.tier.in_(tiers),
            _lacking(program_id, badge_id, MemberTier.member_id),
        )
        .order_by(MemberTier.member_id)
        .limit(limit)
    ).all()
    return [(int(m), since, None if c is None else int(c)) for m, since, c in rows]
