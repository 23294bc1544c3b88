"""Orders: earning on `order.placed` (pending for the return window) and reversing exactly what
the refunded lines earned on `order.refunded` / `order.cancelled`, with the rule version that
earned it, whether the points are still pending, available, or already spent (then debt)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError
from punchcard.events import repository as repo
from punchcard.events.earning import Earned, earn, money
from punchcard.events.types import OrderCancelled, OrderPlaced, OrderRefunded
from punchcard.ledger import reversals
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Kind
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import repository as rules_repo
from punchcard.rules.domain import Facts, Line

if TYPE_CHECKING:
    from punchcard.events.service import EventInput, Outcome


class OrderExistsError(ConflictError):
    code = "order_exists"


class OrderNotFoundError(NotFoundError):
    code = "order_not_found"


class RefundTooLargeError(InvalidInputError):
    code = "refund_exceeds_order"


def _lines(data: OrderPlaced) -> tuple[Line, ...]:
    return tuple(Line(ln.sku, ln.category, ln.quantity, ln.unit_price) for ln in data.lines)


def place(
    session: Session,
    program: ProgramSettings,
    event: EventInput,
    data: OrderPlaced,
    member_id: int | None,
    now: datetime,
    event_row: int | None,
    dry_run: bool,
) -> Outcome:
    from punchcard.events.service import Outcome

    if repo.get_order(session, program.id, data.order_id) is not None:
        raise OrderExistsError(
            f"order {data.order_id} was already placed (by another event id)",
            details={"order_id": data.order_id},
        )
    first = member_id is None or not repo.has_earlier_order(
        session, program.id, member_id, event.occurred_at
    )
    facts = Facts(
        event.type,
        event.occurred_at,
        event.channel.value,
        event.store_id,
        money(data.total),
        _lines(data),
        first_order=first,
    )
    earned = earn(
        session, program_id=program.id, member_id=member_id, facts=facts, lock_budgets=not dry_run
    )
    total = earned.evaluation.total
    outcome = Outcome(member_id, version=earned.version, evaluation=earned.evaluation)
    if program.pending_days > 0:
        outcome.pending = total
    else:
        outcome.awarded = total
    outcome.extra = {"order_id": data.order_id, "order_status": "placed"}
    if dry_run or member_id is None or event_row is None:
        return outcome
    if total > 0:
        outcome.transaction_id = ledger.credit(
            session,
            program=program,
            member_id=member_id,
            points=total,
            reason="order placed",
            reference=data.order_id,
            now=now,
            occurred_at=event.occurred_at,
            kind=Kind.EARN,
            meta={
                "event_id": event.source_id,
                "order_id": data.order_id,
                "rule_version": earned.version,
            },
        )
    repo.insert_order(
        session,
        {
            "program_id": program.id,
            "order_id": data.order_id,
            "member_id": member_id,
            "event_id": event_row,
            "transaction_id": outcome.transaction_id,
            "currency": data.currency,
            "total": money(data.total),
            "lines": json.dumps([ln.model_dump(mode="json") for ln in data.lines]),
            "refunded_amount": Decimal(0),
            "refunded_quantities": json.dumps([0] * len(data.lines)),
            "status": "placed",
            "placed_at": event.occurred_at,
        },
    )
    record_awards(session, program, member_id, event, event_row, outcome.transaction_id, earned)
    return outcome


def record_awards(
    session: Session,
    program: ProgramSettings,
    member_id: int,
    event: EventInput,
    event_row: int | None,
    transaction_id: int | None,
    earned: Earned,
) -> None:
    if event_row is None:
        return
    repo.insert_awards(
        session,
        [
            {
                "program_id": program.id,
                "member_id": member_id,
                "event_id": event_row,
                "transaction_id": transaction_id,
                "rule_id": a.rule_id,
                "rule_version": earned.version,
                "points": a.points,
                "reversed_points": 0,
                "lines": json.dumps(list(a.lines)),
                "occurred_at": event.occurred_at,
            }
            for a in earned.evaluation.awards
            if a.points > 0
        ],
    )
    rules_repo.add_spent(session, program.id, earned.budgeted)


def refunded_fractions(order: repo.OrderRow) -> tuple[list[Decimal], bool]:
    """How much of each line is refunded (0 to 1), and whether the whole order is."""
    total = order.total
    by_amount = order.refunded_amount / total if total > 0 else Decimal(0)
    fractions = [
        min(Decimal(1), Decimal(done) / Decimal(ln["quantity"]) + by_amount)
        for ln, done in zip(order.lines, order.refunded_quantities, strict=True)
    ]
    full = (total > 0 and order.refunded_amount >= total) or (
        bool(fractions) and all(f >= 1 for f in fractions)
    )
    if not order.lines and total == 0:
        full = True
    return fractions, full


def _target(
    award: repo.AwardRow, fractions: Sequence[Decimal], by_amount: Decimal, full: bool
) -> int:
    """Points of this award the refunds so far should have taken back."""
    if full:
        return award.points
    if award.lines:
        exact = sum(
            (Decimal(p) * f for p, f in zip(award.lines, fractions, strict=True)), Decimal(0)
        )
    elif fractions:
        return 0  # an order-level (fixed) award goes back only with a full refund
    else:
        exact = Decimal(award.points) * by_amount
    return min(award.points, int(exact.to_integral_value(rounding=ROUND_FLOOR)))


def _apply_refund(order: repo.OrderRow, data: OrderRefunded | OrderCancelled) -> None:
    if isinstance(data, OrderCancelled):
        order.refunded_quantities = [ln["quantity"] for ln in order.lines]
        order.refunded_amount = order.total
        return
    if data.amount is not None:
        left = order.total - order.refunded_amount
        if money(data.amount) > left:
            raise RefundTooLargeError(
                f"refund of {data.amount} exceeds the {left} left to refund on this order",
                details={"refundable": str(left)},
            )
        order.refunded_amount += money(data.amount)
        return
    for refund in data.lines or []:
        todo = refund.quantity
        for index, line in enumerate(order.lines):
            if line["sku"] == refund.sku and todo:
                take = min(todo, line["quantity"] - order.refunded_quantities[index])
                order.refunded_quantities[index] += take
                todo -= take
        if todo:
            raise RefundTooLargeError(
                f"only {refund.quantity - todo} of {refund.sku} left to refund on this order, "
                f"not {refund.quantity}",
                details={"sku": refund.sku},
            )


def refund(
    session: Session,
    program: ProgramSettings,
    event: EventInput,
    data: OrderRefunded | OrderCancelled,
    member_id: int | None,
    now: datetime,
    dry_run: bool,
) -> Outcome:
    from punchcard.events.service import Outcome

    order = repo.get_order(session, program.id, data.order_id)
    if order is None or (member_id is not None and order.member_id != member_id):
        raise OrderNotFoundError(
            f"order {data.order_id} not found", details={"order_id": data.order_id}
        )
    if not dry_run:
        ledger.lock(session, program.id, order.member_id)  # refunds of one member queue here
        order = repo.get_order(session, program.id, data.order_id)
        assert order is not None
    if order.status == "refunded":
        raise ConflictError(
            f"order {order.order_id} is already fully refunded", code="order_refunded"
        )
    _apply_refund(order, data)
    fractions, full = refunded_fractions(order)
    by_amount = order.refunded_amount / order.total if order.total > 0 else Decimal(0)
    awards = repo.awards_of_event(session, repo.order_event_id(session, program.id, order.order_id))
    take = {
        a.id: max(0, _target(a, fractions, by_amount, full) - a.reversed_points) for a in awards
    }
    total = sum(take.values())
    order.status = "refunded" if full else "partly_refunded"
    outcome = Outcome(order.member_id, reversed=total)
    outcome.extra = {
        "order_id": order.order_id,
        "order_status": order.status,
        "reversed_awards": [
            {"rule_id": a.rule_id, "rule_version": a.rule_version, "points": take[a.id]}
            for a in awards
            if take[a.id]
        ],
    }
    if dry_run:
        return outcome
    if total and order.transaction_id is not None:
        outcome.transaction_id = reversals.reverse(
            session,
            program=program,
            member_id=order.member_id,
            transaction_id=order.transaction_id,
            points=total,
            reason="order cancelled" if isinstance(data, OrderCancelled) else "order refunded",
            reference=order.order_id,
            now=now,
            meta={"event_id": event.source_id, "order_id": order.order_id},
        )
        repo.add_reversed(session, take)
        spent_back: dict[str, int] = {}
        for a in awards:
            spent_back[a.rule_id] = spent_back.get(a.rule_id, 0) - take[a.id]
        rules_repo.add_spent(session, program.id, spent_back)
    repo.update_order(session, program.id, order)
    return outcome
