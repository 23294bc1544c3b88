"""After the faults: the database against what the clients were told.

- every acknowledged event id is in the events table exactly once, with the answer the client
  got, and every acknowledged spend is in the ledger exactly once;
- a write the client gave up on is wholly there or wholly absent (a batch: all of its events
  or none), never twice, and its Idempotency-Key (if it had one) is stored if and only if it
  happened;
- no Idempotency-Key is left claimed without a response (it would block every retry);
- nothing is in the database that no client sent, and no member was enrolled by a write that
  did not happen;
- every member's stored balance is what the acknowledged answers (plus the writes given up on
  that did happen) add up to, and every order's status is what the answers said.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from punchcard.db import open_database
from punchcard.models import Balance, Event, IdempotencyKey, LedgerTransaction, Member, Order
from tests.reliability.workload import Answer, Client, CustomerModel, Write


@dataclass(frozen=True)
class Stored:
    """The rows of one program that the audit reads, keyed the way the clients know them."""

    events: Counter[str]  # source id -> rows
    results: dict[str, dict[str, Any]]  # source id -> stored result
    spends: dict[str, list[tuple[int, int]]]  # reference -> [(transaction id, points)]
    transactions: dict[int, tuple[str, int]]  # id -> (kind, points)
    keys: dict[str, int | None]  # Idempotency-Key -> stored status (None: claimed, unfinished)
    # external id -> (available, pending, debt, lifetime_earned), for every member
    balances: dict[str, tuple[int, int, int, int]]
    orders: dict[str, str]  # order id -> status


def read(url: str, program_id: int) -> Stored:
    handle = open_database(url)
    try:
        with handle.reader() as s:
            events: Counter[str] = Counter()
            results: dict[str, dict[str, Any]] = {}
            for source_id, result in s.execute(
                select(Event.source_id, Event.result).where(Event.program_id == program_id)
            ):
                events[source_id] += 1
                results[source_id] = json.loads(result) if result is not None else {}
            spends: dict[str, list[tuple[int, int]]] = {}
            transactions: dict[int, tuple[str, int]] = {}
            for tx_id, kind, points, reference in s.execute(
                select(
                    LedgerTransaction.id,
                    LedgerTransaction.kind,
                    LedgerTransaction.points,
                    LedgerTransaction.reference,
                ).where(LedgerTransaction.program_id == program_id)
            ):
                transactions[tx_id] = (kind, points)
                if kind == "spend":
                    spends.setdefault(reference or "", []).append((tx_id, points))
            keys: dict[str, int | None] = {
                key: status
                for key, status in s.execute(
                    select(IdempotencyKey.key, IdempotencyKey.status_code).where(
                        IdempotencyKey.program_id == program_id
                    )
                )
            }
            balances = {
                external_id: (available, pending, debt, lifetime)
                for external_id, available, pending, debt, lifetime in s.execute(
                    select(
                        Member.external_id,
                        func.coalesce(Balance.available, 0),
                        func.coalesce(Balance.pending, 0),
                        func.coalesce(Balance.debt, 0),
                        func.coalesce(Balance.lifetime_earned, 0),
                    )
                    .outerjoin(Balance, Balance.member_id == Member.id)
                    .where(Member.program_id == program_id)
                )
            }
            orders: dict[str, str] = {
                order_id: status
                for order_id, status in s.execute(
                    select(Order.order_id, Order.status).where(Order.program_id == program_id)
                )
            }
    finally:
        handle.dispose()
    return Stored(events, results, spends, transactions, keys, balances, orders)


def happened(stored: Stored, write: Write) -> bool:
    """Whether a write given up on took place; fails if it is partly there."""
    if write.is_spend:
        rows = stored.spends.get(write.key, [])
        assert len(rows) <= 1, f"spend {write.key} given up on is in the ledger {len(rows)} times"
        present = bool(rows)
    else:
        counts = [stored.events[event_id] for event_id in write.event_ids]
        assert set(counts) in ({0}, {1}), f"{write.key} given up on is half there: {counts}"
        present = counts[0] == 1
    assert (write.key in stored.keys) == (present and write.keyed), (
        f"{write.key} given up on: happened={present} but its Idempotency-Key "
        f"{'is' if write.key in stored.keys else 'is not'} stored"
    )
    return present


def effect(stored: Stored, write: Write) -> int:
    """Points a write that happened added to the member's available balance."""
    if write.is_spend:
        return -stored.spends[write.key][0][1]
    total = 0
    for event_id in write.event_ids:
        points = stored.results[event_id]["points"]
        total += points["awarded"] - points["reversed"]
    return total


def check_acknowledged(stored: Stored, answer: Answer) -> None:
    write = answer.write
    assert answer.body is not None
    if write.keyed:
        assert stored.keys.get(write.key) is not None, f"{write.key} answered, its key not stored"
    else:
        assert write.key not in stored.keys, f"{write.key} sent without a key, yet one is stored"
    if write.is_spend:
        rows = stored.spends.get(write.key, [])
        assert rows == [(answer.body["id"], answer.body["points"])], (
            f"acknowledged spend {write.key} ({answer.body['id']}) is in the ledger as {rows}"
        )
        return
    for event_id, result in zip(write.event_ids, answer.event_results(), strict=True):
        assert stored.events[event_id] == 1, (
            f"acknowledged event {event_id} is stored {stored.events[event_id]} times"
        )
        first = stored.results[event_id]
        for name in ("member_id", "transaction_id", "points", "order_status"):
            assert first.get(name) == result.get(name), (event_id, name, first, result)
        points = result["points"]
        if result["transaction_id"] is not None:
            kind, size = stored.transactions[result["transaction_id"]]
            moved = (
                points["reversed"] if kind == "reversal" else points["awarded"] + points["pending"]
            )
            assert size == moved, (event_id, kind, size, result)
        else:
            assert points == {"awarded": 0, "pending": 0, "reversed": 0}, (event_id, result)


def orders_of(write: Write) -> set[str]:
    events = write.body.get("events", [write.body])
    return {e["data"]["order_id"] for e in events if "order_id" in e.get("data", {})}


def check_customer(stored: Stored, customer: CustomerModel) -> None:
    available, lifetime = customer.available, customer.lifetime_earned
    unsure: set[str] = set()  # orders that a write given up on may have changed
    enrolled = customer.member_id is not None
    given_up = customer.given_up
    if given_up is not None and happened(stored, given_up):
        enrolled = True
        delta = effect(stored, given_up)
        available += delta
        if not given_up.is_spend:
            lifetime += delta
            unsure = orders_of(given_up)
    found = stored.balances.get(customer.external_id)
    assert (found is not None) == enrolled, (
        f"{customer.external_id}: member {'missing' if enrolled else 'enrolled by nothing'}"
    )
    if found is None:
        return
    assert found == (available, 0, 0, lifetime), (
        f"{customer.external_id}: stored (available, pending, debt, lifetime_earned) {found}, "
        f"the answers add up to {(available, 0, 0, lifetime)}"
    )
    for order_id, order in customer.orders.items():
        if order_id not in unsure:
            status = stored.orders[order_id]
            assert (status == "refunded") == (not order.open), (order_id, status, order)


def audit(url: str, program_id: int, clients: list[Client]) -> Counter[str]:
    """Check the database against the answers; returns what happened to each kind of write."""
    stored = read(url, program_id)
    tally: Counter[str] = Counter()
    sent_events: set[str] = set()
    sent_spends: set[str] = set()
    for client in clients:
        for answer in client.answers:
            write = answer.write
            sent_events.update(write.event_ids)
            if write.is_spend:
                sent_spends.add(write.key)
            kind = "spend" if write.is_spend else write.path.rsplit("/", 1)[-1]
            if answer.status is None:
                tally[f"{kind} given up, happened={happened(stored, write)}"] += 1
            else:
                check_acknowledged(stored, answer)
                tally[f"{kind} acknowledged{' (replayed)' if answer.replayed else ''}"] += 1
        for customer in client.customers:
            check_customer(stored, customer)
    unfinished = [key for key, status in stored.keys.items() if status is None]
    assert not unfinished, f"Idempotency-Keys claimed but never finished: {unfinished}"
    assert set(stored.events) <= sent_events, set(stored.events) - sent_events
    assert set(stored.spends) <= sent_spends, set(stored.spends) - sent_spends
    return tally
