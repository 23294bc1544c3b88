"""Orders: earning on `order.placed` (pending for the return window) and reversing exactly what
the refunded lines earned on `order.refunded` / `order.cancelled`, with the rule version that
earned it, whether the points are still pending, available, or already spent (then debt)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

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


def order_lines(data: OrderPlaced) -> tuple[Line, ...]:
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
        order_lines(data),
        first_order=first,
    )
    earned = earn(
        session,
        program_id=program.id,
        member_id=member_id,
        facts=facts,
        lock_budgets=not dry_run,
        now=None if dry_run or event_row is None else now,
    )
    total = earned.evaluation.total
    outcome = Outcome(
        member_id, version=earned.version, evaluation=earned.evaluation, facts=earned.facts
    )
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
            "refunded_values": json.dumps(["0"] * len(data.lines)),
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
                "effect": a.effect,
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


def _line_value(line: dict[str, Any]) -> Decimal:
    return Decimal(str(line["unit_price"])) * int(line["quantity"])


def refunded_share(order: repo.OrderRow) -> tuple[list[Fraction], Fraction, bool]:
    """Exact refunded share of each line (by value), of the whole order, and whether the whole
    order is refunded. Exact fractions: refunding 1 of 3 units gives back exactly a third."""
    shares = [
        Fraction(done) / Fraction(_line_value(line)) if _line_value(line) > 0 else Fraction(1)
        for line, done in zip(order.lines, order.refunded_values, strict=True)
    ]
    whole = (
        Fraction(order.refunded_amount) / Fraction(order.total) if order.total > 0 else Fraction(1)
    )
    full = whole >= 1 or (bool(shares) and all(x >= 1 for x in shares))
    return shares, min(whole, Fraction(1)), full


def _target(award: repo.AwardRow, shares: Sequence[Fraction], whole: Fraction, full: bool) -> int:
    """Points of this award that the refunds so far should have taken back."""
    if full:
        return award.points
    if award.effect == "fixed":
        return 0  # an order-level bonus goes back only with a full refund
    if award.lines:
        exact = sum((p * x for p, x in zip(award.lines, shares, strict=True)), Fraction(0))
    else:
        exact = award.points * whole
    return min(award.points, math.floor(exact))


def _apply_refund(order: repo.OrderRow, data: OrderRefunded | OrderCancelled) -> None:
    """Record the refund on the order: what each line and the whole order have given back."""
    if isinstance(data, OrderCancelled):
        order.refunded_quantities = [int(ln["quantity"]) for ln in order.lines]
        order.refunded_values = [_line_value(ln) for ln in order.lines]
        order.refunded_amount = order.total
        return
    if data.amount is not None:
        _refund_amount(order, money(data.amount))
        return
    for refund_line in data.lines or []:
        todo = refund_line.quantity
        for index, line in enumerate(order.lines):
            if line["sku"] != refund_line.sku or not todo:
                continue
            take = min(todo, int(line["quantity"]) - order.refunded_quantities[index])
            order.refunded_quantities[index] += take
            value = Decimal(str(line["unit_price"])) * take
            order.refunded_values[index] = min(
                _line_value(line), order.refunded_values[index] + value
            )
            order.refunded_amount = min(order.total, order.refunded_amount + value)
            todo -= take
        if todo:
            raise RefundTooLargeError(
                f"only {refund_line.quantity - todo} of {refund_line.sku} left to refund on "
                f"this order, not {refund_line.quantity}",
                details={"sku": refund_line.sku},
            )


def _refund_amount(order: repo.OrderRow, amount: Decimal) -> None:
    """An amount refund is spread over the lines in proportion to what each has left."""
    left = order.total - order.refunded_amount
    if amount > left:
        raise RefundTooLargeError(
            f"refund of {amount} exceeds the {left} left to refund on this order",
            details={"refundable": str(left)},
        )
    order.refunded_amount += amount
    remaining = [
        _line_value(ln) - done for ln, done in zip(order.lines, order.refunded_values, strict=True)
    ]
    pool = sum(remaining, Decimal(0))
    if pool <= 0:
        return
    share = min(Fraction(1), Fraction(amount) / Fraction(pool))
    for index, rest in enumerate(remaining):
        order.refunded_values[index] += (
            Decimal(rest) * Decimal(share.numerator) / Decimal(share.denominator)
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
    if order is None or order.member_id != member_id:
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
    shares, whole, full = refunded_share(order)
    awards = repo.awards_of_event(session, repo.order_event_id(session, program.id, order.order_id))
    take = {a.id: max(0, _target(a, shares, whole, full) - a.reversed_points) for a in awards}
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
