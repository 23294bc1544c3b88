"""The import fast path: a batch of `order.placed` events evaluated by the same rules and
written with multi-row statements. It produces the same rows as ingesting the events one by
one (events, orders, awards, ledger transactions, lots or pending credits); rule sets with caps
or budgets on orders are left to the one-by-one path, whose usage counting they need."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from punchcard.errors import PunchcardError
from punchcard.events import service
from punchcard.events.earning import money
from punchcard.events.types import check_data
from punchcard.ledger.bulk import CreditRequest, credit_many
from punchcard.members import service as members
from punchcard.models import Award, Event, Order
from punchcard.models.base import table_of
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import service as rules
from punchcard.rules.domain import Evaluation, Facts, evaluate


def fast_path_allowed(session: Session, program_id: int) -> bool:
    current = rules.in_force(session, program_id)
    return not any(
        r.caps or r.budget is not None
        for r in current.rules.rules
        if r.active and "order.placed" in r.events
    )


def _known(
    session: Session,
    column: InstrumentedAttribute[str],
    where: ColumnElement[bool],
    values: list[str],
) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        found.update(session.execute(select(column).where(where, column.in_(chunk))).scalars())
    return found


def _earlier_orders(
    session: Session, program_id: int, member_ids: list[int]
) -> dict[int, datetime]:
    rows = session.execute(
        select(Order.member_id, func.min(Order.placed_at))
        .where(Order.program_id == program_id, Order.member_id.in_(member_ids))
        .group_by(Order.member_id)
    ).all()
    return {int(m): t for m, t in rows if t is not None}


def import_events(
    session: Session, *, program: ProgramSettings, events: list[service.EventInput], now: datetime
) -> dict[str, list[service.EventInput]]:
    """Apply a batch of order.placed events; returns the skipped ones by reason."""
    skipped: dict[str, list[service.EventInput]] = defaultdict(list)
    seen_sources = _known(
        session, Event.source_id, Event.program_id == program.id, [e.source_id for e in events]
    )
    seen_orders = _known(
        session,
        Order.order_id,
        Order.program_id == program.id,
        [e.data["order_id"] for e in events],
    )
    fresh: list[service.EventInput] = []
    batch_orders: set[str] = set()
    for event in events:
        order_id = event.data["order_id"]
        try:
            check_data(event.type, event.data)  # the same checks as one-by-one ingestion
        except PunchcardError as exc:
            skipped[exc.code].append(event)
            continue
        if event.source_id in seen_sources:
            skipped["already_imported"].append(event)
        elif order_id in seen_orders or order_id in batch_orders:
            skipped["order_exists"].append(event)
        else:
            batch_orders.add(order_id)
            fresh.append(event)
    if not fresh:
        return skipped
    if program.auto_enrol:
        first_seen: dict[str, datetime] = {}
        for event in fresh:
            ext = event.member["external_id"]
            first_seen[ext] = min(first_seen.get(ext, event.occurred_at), event.occurred_at, now)
        ids = members.enrol_many(
            session,
            enrolled_at=first_seen,
            program_id=program.id,
            external_ids=[e.member["external_id"] for e in fresh],
            now=now,
        )
    else:
        ids = members.find_ids(
            session, program_id=program.id, external_ids=[e.member["external_id"] for e in fresh]
        )
    for event in [e for e in fresh if e.member["external_id"] not in ids]:
        skipped["member_not_found"].append(event)
    fresh = [e for e in fresh if e.member["external_id"] in ids]
    if not fresh:
        return skipped
    current = rules.in_force(session, program.id)
    earlier = _earlier_orders(session, program.id, sorted(set(ids.values())))
    times: dict[int, list[datetime]] = defaultdict(list)
    for event in fresh:
        times[ids[event.member["external_id"]]].append(event.occurred_at)
    for member_times in times.values():
        member_times.sort()
    evaluations: list[Evaluation] = []
    for event in fresh:
        member_id = ids[event.member["external_id"]]
        first = not (member_id in earlier and earlier[member_id] < event.occurred_at) and (
            bisect_left(times[member_id], event.occurred_at) == 0
        )
        facts = Facts(
            event.type,
            event.occurred_at,
            event.channel.value,
            event.store_id,
            money(event.data["total"]),
            (),
            first_order=first,
        )
        evaluations.append(evaluate(current.rules, facts))
    _write(session, program, fresh, ids, evaluations, current.version, now)
    return skipped


def _write(
    session: Session,
    program: ProgramSettings,
    fresh: list[service.EventInput],
    ids: dict[str, int],
    evaluations: list[Evaluation],
    version: int,
    now: datetime,
) -> None:
    earning = [(e, ev) for e, ev in zip(fresh, evaluations, strict=True) if ev.total > 0]
    tx_ids = credit_many(
        session,
        program=program,
        credits=[
            CreditRequest(
                ids[e.member["external_id"]],
                ev.total,
                "order placed",
                e.data["order_id"],
                e.occurred_at,
                {"event_id": e.source_id, "order_id": e.data["order_id"], "rule_version": version},
            )
            for e, ev in earning
        ],
        now=now,
    )
    tx_of = {e.source_id: tx for (e, _), tx in zip(earning, tx_ids, strict=True)}
    rows = []
    for event, evaluation in zip(fresh, evaluations, strict=True):
        member_id = ids[event.member["external_id"]]
        outcome = service.Outcome(
            member_id, tx_of.get(event.source_id), version=version, evaluation=evaluation
        )
        if program.pending_days > 0:
            outcome.pending = evaluation.total
        else:
            outcome.awarded = evaluation.total
        outcome.extra = {"order_id": event.data["order_id"], "order_status": "placed"}
        rows.append(
            {
                "program_id": program.id,
                "source_id": event.source_id,
                "type": event.type,
                "member_id": member_id,
                "occurred_at": event.occurred_at,
                "channel": event.channel.value,
                "store_id": event.store_id,
                "data": json.dumps(event.data, separators=(",", ":"), default=str),
                "result": json.dumps(
                    service.result_of(event, outcome, False), separators=(",", ":")
                ),
                "explanation": json.dumps(
                    service.explanation_of(event, outcome), separators=(",", ":"), default=str
                ),
                "transaction_id": outcome.transaction_id,
                "created_at": now,
            }
        )
    event_ids = list(
        session.execute(
            insert(table_of(Event)).returning(Event.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    _orders_and_awards(session, program, fresh, ids, evaluations, version, event_ids, tx_of)


def _orders_and_awards(
    session: Session,
    program: ProgramSettings,
    fresh: list[service.EventInput],
    ids: dict[str, int],
    evaluations: list[Evaluation],
    version: int,
    event_ids: list[int],
    tx_of: dict[str, int],
) -> None:
    orders = []
    awards = []
    for event, evaluation, event_id in zip(fresh, evaluations, event_ids, strict=True):
        member_id = ids[event.member["external_id"]]
        lines = event.data.get("lines", [])
        orders.append(
            {
                "program_id": program.id,
                "order_id": event.data["order_id"],
                "member_id": member_id,
                "event_id": event_id,
                "transaction_id": tx_of.get(event.source_id),
                "currency": event.data["currency"],
                "total": money(event.data["total"]),
                "lines": json.dumps(lines),
                "refunded_amount": Decimal(0),
                "refunded_quantities": json.dumps([0] * len(lines)),
                "refunded_values": json.dumps(["0"] * len(lines)),
                "status": "placed",
                "placed_at": event.occurred_at,
            }
        )
        awards += [
            {
                "program_id": program.id,
                "member_id": member_id,
                "event_id": event_id,
                "transaction_id": tx_of.get(event.source_id),
                "rule_id": a.rule_id,
                "rule_version": version,
                "effect": a.effect,
                "points": a.points,
                "reversed_points": 0,
                "lines": json.dumps(list(a.lines)),
                "occurred_at": event.occurred_at,
            }
            for a in evaluation.awards
            if a.points > 0
        ]
    session.execute(insert(table_of(Order)), orders)
    if awards:
        session.execute(insert(table_of(Award)), awards)
