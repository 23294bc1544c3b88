"""Every row that earning events write, planned in memory before any is written.

The fast path (`events.fastpath`) reads what it needs in one round trip, evaluates the rules,
and hands the evaluated events here with the locked balances and ids drawn in advance; this
module decides the ledger transactions (with `ledger.domain`'s plans: pending points, debt
paid first, a lot per available credit), the event, order and award rows, and the stored
result of each event, exactly as the one-by-one services would. No I/O: `moment` turns an
instant into what the database stores, so the rows go out as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from punchcard.events.orders import order_lines
from punchcard.events.service import EventInput, Outcome, explanation_of, result_of
from punchcard.events.types import OrderPlaced
from punchcard.ledger.domain import BalanceView, Kind, Plan, plan_credit, transaction_digest
from punchcard.programs.domain import ProgramSettings, expiry_for
from punchcard.rules.domain import Evaluation, Facts

Row = tuple[Any, ...]
Moment = Callable[[datetime | None], Any]

TRANSACTION_COLUMNS = (
    "id", "program_id", "member_id", "kind", "points", "reason", "reference", "reverses_id",
    "occurred_at", "created_at", "meta", "digest",
)  # fmt: skip
POSTING_COLUMNS = ("program_id", "transaction_id", "member_id", "account", "amount")
LOT_COLUMNS = (
    "id", "program_id", "member_id", "transaction_id", "points", "remaining", "earned_at",
    "expires_at",
)  # fmt: skip
LOT_ENTRY_COLUMNS = ("program_id", "member_id", "transaction_id", "lot_id", "amount")
PENDING_COLUMNS = (
    "program_id", "member_id", "transaction_id", "points", "remaining", "release_at", "status",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "program_id", "source_id", "type", "member_id", "occurred_at", "channel", "store_id",
    "data", "result", "explanation", "transaction_id", "created_at",
)  # fmt: skip
ORDER_COLUMNS = (
    "program_id", "order_id", "member_id", "event_id", "transaction_id", "currency", "total",
    "lines", "refunded_amount", "refunded_quantities", "refunded_values", "status", "placed_at",
)  # fmt: skip
AWARD_COLUMNS = (
    "program_id", "member_id", "event_id", "transaction_id", "rule_id", "rule_version", "effect",
    "points", "reversed_points", "lines", "occurred_at",
)  # fmt: skip


def _json(value: Any) -> str:
    """Stored JSON text. orjson: several documents per event, and json.dumps was a fifth of
    an import's time; anything it cannot encode natively (Decimal) is written as text."""
    return orjson.dumps(value, default=str).decode()


def _sorted_json(value: dict[str, Any]) -> str:
    """A transaction's meta, keys sorted as the ledger service writes them (json.dumps with
    sort_keys, a twentieth of a planned event); compact, and read back by json.loads alike."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def event_facts(event: EventInput, order: OrderPlaced | None, first_order: bool | None) -> Facts:
    """What the rules see of an earning event (the order's amount and lines, if it is one)."""
    if order is None:
        return Facts(event.type, event.occurred_at, event.channel.value, event.store_id, None)
    return Facts(
        event.type,
        event.occurred_at,
        event.channel.value,
        event.store_id,
        order.total.quantize(Decimal("0.01")),
        order_lines(order),
        first_order=first_order,
    )


@dataclass(frozen=True)
class Evaluated:
    """One event ready to be written: its member and what the rules gave it."""

    event: EventInput
    order: OrderPlaced | None
    member_id: int
    evaluation: Evaluation


@dataclass
class EarnRows:
    transactions: list[Row] = field(default_factory=list)
    postings: list[Row] = field(default_factory=list)
    lots: list[Row] = field(default_factory=list)
    lot_entries: list[Row] = field(default_factory=list)
    pending: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    awards: list[Row] = field(default_factory=list)
    deltas: dict[int, list[int]] = field(default_factory=dict)  # available, pending, debt, life
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Planner:
    program: ProgramSettings
    version: int
    balances: dict[int, BalanceView]
    now: datetime
    moment: Moment
    tx_ids: Iterator[int]
    event_ids: Iterator[int]
    lot_ids: Iterator[int]
    money: Callable[[Decimal], Any] = str  # what a numeric column takes from this driver
    rows: EarnRows = field(default_factory=EarnRows)
    _stamp: Any = field(init=False)  # `now` as stored: the same for every row of the batch
    _zeros: dict[int, tuple[str, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._stamp = self.moment(self.now)

    def add(self, item: Evaluated) -> dict[str, Any]:
        event = item.event
        total = item.evaluation.total
        outcome = Outcome(item.member_id, version=self.version, evaluation=item.evaluation)
        pending_days = self.program.pending_days if item.order is not None else 0
        if pending_days > 0:
            outcome.pending = total
        else:
            outcome.awarded = total
        if item.order is not None:
            outcome.extra = {"order_id": item.order.order_id, "order_status": "placed"}
        occurred = self.moment(event.occurred_at)
        if total > 0:
            outcome.transaction_id = self._credit(item, total, pending_days, occurred)
        event_id = next(self.event_ids)
        result = result_of(event, outcome, False)
        self.rows.events.append(
            (
                event_id,
                self.program.id,
                event.source_id,
                event.type,
                item.member_id,
                occurred,
                event.channel.value,
                event.store_id,
                _json(event.data),
                _json(result),
                _json(explanation_of(event, outcome)),
                outcome.transaction_id,
                self._stamp,
            )
        )
        if item.order is not None:
            self._order(item, event_id, outcome.transaction_id, occurred)
        self._awards(item, event_id, outcome.transaction_id, occurred)
        self.rows.results.append(result)
        return result

    def _credit(self, item: Evaluated, points: int, pending_days: int, stored_at: Any) -> int:
        event, member_id, occurred = item.event, item.member_id, item.event.occurred_at
        tx_id = next(self.tx_ids)
        plan = plan_credit(Kind.EARN, points, self.balances[member_id], pending=pending_days > 0)
        if item.order is not None:
            reason, reference = "order placed", item.order.order_id
            meta: dict[str, Any] = {"event_id": event.source_id, "order_id": reference}
        else:
            reason, reference = event.type, event.source_id
            meta = {"event_id": event.source_id}
        meta["rule_version"] = self.version
        legs = [(p.account.value, p.amount) for p in plan.postings]
        digest = transaction_digest(
            program_id=self.program.id,
            member_id=member_id,
            kind=plan.kind.value,
            points=plan.points,
            reason=reason,
            reference=reference,
            reverses_id=None,
            occurred_at=occurred,
            legs=legs,
        )
        self.rows.transactions.append(
            (
                tx_id, self.program.id, member_id, plan.kind.value, plan.points, reason, reference,
                None, stored_at, self._stamp, _sorted_json(meta), digest,
            )
        )  # fmt: skip
        self.rows.postings.extend(
            (self.program.id, tx_id, member_id, account, amount) for account, amount in legs
        )
        if plan.new_lot_points:
            self._lot(member_id, tx_id, plan, occurred, stored_at)
        if pending_days > 0:
            release_at = occurred + timedelta(days=pending_days)
            release = self.moment(release_at)
            self.rows.pending.append(
                (self.program.id, member_id, tx_id, points, points, release, "pending")
            )
        self._apply(member_id, plan)
        return tx_id

    def _lot(
        self, member_id: int, tx_id: int, plan: Plan, occurred: datetime, stored_at: Any
    ) -> None:
        lot_id = next(self.lot_ids)
        expires = expiry_for(self.program.expiry_policy, self.program.expiry_value, occurred)
        points = plan.new_lot_points
        self.rows.lots.append(
            (
                lot_id, self.program.id, member_id, tx_id, points, points, stored_at,
                self.moment(expires),
            )
        )  # fmt: skip
        self.rows.lot_entries.append((self.program.id, member_id, tx_id, lot_id, points))

    def _apply(self, member_id: int, plan: Plan) -> None:
        delta = plan.delta()
        self.balances[member_id] = self.balances[member_id].after(delta)
        acc = self.rows.deltas.setdefault(member_id, [0, 0, 0, 0])
        acc[0] += delta.available
        acc[1] += delta.pending
        acc[2] += delta.debt
        acc[3] += delta.lifetime_earned

    def _order(self, item: Evaluated, event_id: int, tx_id: int | None, placed_at: Any) -> None:
        order = item.order
        assert order is not None
        # The lines' fields as they are (orjson writes a Decimal as text, as pydantic's JSON
        # mode does): model_dump took 15 µs an order of three lines, this 2.
        lines = [ln.__dict__ for ln in order.lines]
        zeros = self._zeros.get(len(lines))
        if zeros is None:  # nothing refunded yet: the same two texts for every order this long
            zeros = self._zeros[len(lines)] = (_json([0] * len(lines)), _json(["0"] * len(lines)))
        self.rows.orders.append(
            (
                self.program.id, order.order_id, item.member_id, event_id, tx_id, order.currency,
                self.money(order.total.quantize(Decimal("0.01"))), _json(lines),
                self.money(Decimal(0)), zeros[0], zeros[1], "placed", placed_at,
            )
        )  # fmt: skip

    def _awards(self, item: Evaluated, event_id: int, tx_id: int | None, occurred: Any) -> None:
        self.rows.awards.extend(
            (
                self.program.id, item.member_id, event_id, tx_id, a.rule_id, self.version,
                a.effect, a.points, 0, _json(list(a.lines)), occurred,
            )
            for a in item.evaluation.awards
            if a.points > 0
        )  # fmt: skip
