"""SQL for events, orders and awards."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import Award, Event, Order
from punchcard.models.base import table_of


def claim_event(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the event unless its source id is known; None when it is (a replay). On
    PostgreSQL a racing duplicate waits here for the first to commit."""
    return session.execute(
        insert_or_skip(session, table_of(Event))
        .values(**values)
        .on_conflict_do_nothing()
        .returning(Event.id)
    ).scalar_one_or_none()


def stored_result(session: Session, program_id: int, source_id: str) -> str | None:
    return session.execute(
        select(Event.result).where(Event.program_id == program_id, Event.source_id == source_id)
    ).scalar_one_or_none()


def finish_event(
    session: Session,
    event_id: int,
    *,
    member_id: int | None,
    result: dict[str, Any],
    explanation: dict[str, Any],
    transaction_id: int | None,
) -> str:
    text = json.dumps(result, separators=(",", ":"))
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(
            member_id=member_id,
            result=text,
            explanation=json.dumps(explanation, separators=(",", ":"), default=str),
            transaction_id=transaction_id,
        )
    )
    return text


def explanation_for(
    session: Session, program_id: int, transaction_id: int
) -> dict[str, Any] | None:
    text = session.execute(
        select(Event.explanation).where(
            Event.program_id == program_id, Event.transaction_id == transaction_id
        )
    ).scalar_one_or_none()
    return None if text is None else json.loads(text)


def has_earlier_order(session: Session, program_id: int, member_id: int, before: datetime) -> bool:
    return bool(
        session.execute(
            select(
                exists().where(
                    Order.program_id == program_id,
                    Order.member_id == member_id,
                    Order.placed_at < before,
                )
            )
        ).scalar_one()
    )


@dataclass
class OrderRow:
    order_id: str
    member_id: int
    transaction_id: int | None
    total: Decimal
    lines: list[dict[str, Any]]
    refunded_amount: Decimal
    refunded_quantities: list[int]
    refunded_values: list[Decimal]
    status: str


def get_order(session: Session, program_id: int, order_id: str) -> OrderRow | None:
    row = session.execute(
        select(
            Order.order_id,
            Order.member_id,
            Order.transaction_id,
            Order.total,
            Order.lines,
            Order.refunded_amount,
            Order.refunded_quantities,
            Order.refunded_values,
            Order.status,
        ).where(Order.program_id == program_id, Order.order_id == order_id)
    ).one_or_none()
    if row is None:
        return None
    return OrderRow(
        row.order_id,
        row.member_id,
        row.transaction_id,
        Decimal(row.total),
        json.loads(row.lines),
        Decimal(row.refunded_amount),
        json.loads(row.refunded_quantities),
        [Decimal(v) for v in json.loads(row.refunded_values)],
        row.status,
    )


def insert_order(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(table_of(Order)).values(**values))


def update_order(session: Session, program_id: int, order: OrderRow) -> None:
    session.execute(
        update(Order)
        .where(Order.program_id == program_id, Order.order_id == order.order_id)
        .values(
            refunded_amount=order.refunded_amount,
            refunded_quantities=json.dumps(order.refunded_quantities),
            refunded_values=json.dumps([str(v) for v in order.refunded_values]),
            status=order.status,
        )
    )


def insert_awards(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table_of(Award)), rows)


@dataclass
class AwardRow:
    id: int
    rule_id: str
    rule_version: int
    effect: str
    points: int
    reversed_points: int
    lines: list[int]


def awards_of_event(session: Session, event_id: int) -> list[AwardRow]:
    rows = session.execute(
        select(
            Award.id,
            Award.rule_id,
            Award.rule_version,
            Award.effect,
            Award.points,
            Award.reversed_points,
            Award.lines,
        )
        .where(Award.event_id == event_id)
        .order_by(Award.id)
    ).all()
    return [
        AwardRow(
            r.id,
            r.rule_id,
            r.rule_version,
            r.effect,
            r.points,
            r.reversed_points,
            json.loads(r.lines),
        )
        for r in rows
    ]


def order_event_id(session: Session, program_id: int, order_id: str) -> int:
    return int(
        session.execute(
            select(Order.event_id).where(Order.program_id == program_id, Order.order_id == order_id)
        ).scalar_one()
    )


def add_reversed(session: Session, reversed_by_award: dict[int, int]) -> None:
    for award_id, points in reversed_by_award.items():
        if points:
            session.execute(
                update(Award)
                .where(Award.id == award_id)
                .values(reversed_points=Award.reversed_points + points)
            )


def cap_usage(
    session: Session,
    program_id: int,
    member_id: int,
    rule_ids: Iterable[str],
    bounds: dict[str, tuple[datetime, datetime]],
) -> dict[str, dict[str, int]]:
    """Net points (less reversals) each rule gave the member in each period."""
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    net = Award.points - Award.reversed_points
    columns = [
        func.coalesce(
            func.sum(case((and_(Award.occurred_at >= lo, Award.occurred_at < hi), net), else_=0)), 0
        ).label(period)
        for period, (lo, hi) in bounds.items()
    ]
    rows = session.execute(
        select(Award.rule_id, *columns, func.coalesce(func.sum(net), 0).label("lifetime"))
        .where(
            Award.program_id == program_id,
            Award.member_id == member_id,
            Award.rule_id.in_(ids),
        )
        .group_by(Award.rule_id)
    ).all()
    return {
        r.rule_id: {period: int(getattr(r, period)) for period in [*bounds, "lifetime"]}
        for r in rows
    }
