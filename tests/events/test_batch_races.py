"""A large batch is planned before it locks (PostgreSQL: its members' rows; SQLite, in the
import's processes: the database, with ids set aside, `fastpath.Early`) and checked under the
lock (`batchstate.basis`): whatever another transaction commits in between, what the batch
writes is what it would have written planned under the lock. Each case commits its change at
that exact moment, from a second session, between the plan and the lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from punchcard import rawsql
from punchcard.db import Database, session_scope
from punchcard.events import batchstate, batchwrite, fastpath, service
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service as ledger
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.members.domain import Channel
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import Raw
from punchcard.rules import service as rules
from punchcard.rules.schemas import parse_rule_set
from tests.conftest import START, ProgramFactory
from tests.events.test_events_api import event, line, order_data, uid
from tests.events.test_fast_paths import BASE, REVIEW, WELCOME, _inputs

HOUR = timedelta(hours=1)
NO_FEATURES: frozenset[str] = frozenset()


GAP = 1000  # between the largest ids and the block set aside for a batch on SQLite


class Reads:
    """Every `_read` of the batch, and an action run (and committed) once, right after the
    first plan: before the read that takes the locks (PostgreSQL), before the transaction
    takes the write lock (SQLite)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[bool, bool]] = []
        self.histories: list[bool] = []  # whether each read looked up first orders
        self.plans = 0
        self.before_lock: Callable[[], object] | None = None
        read, plan = batchstate.read, fastpath._plan

        def spied_read(*args: Any, lock: bool = True, draw: bool = True, **more: Any) -> Any:
            self.calls.append((lock, draw))
            self.histories.append(more.get("history", True))
            return read(*args, lock=lock, draw=draw, **more)

        def counted_plan(*args: Any) -> Any:
            self.plans += 1
            planned = plan(*args)
            if self.before_lock is not None:
                action, self.before_lock = self.before_lock, None
                action()
            return planned

        monkeypatch.setattr(batchstate, "read", spied_read)
        monkeypatch.setattr(fastpath, "_plan", counted_plan)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    monkeypatch.setattr(fastpath, "OPTIMISTIC_FROM", 2)
    return Reads(monkeypatch)


@contextmanager
def _program(
    db: Database, make_program: ProgramFactory, clock: FixedClock, rule_bodies: list[Any]
) -> Iterator[ProgramSettings]:
    program = make_program()
    with session_scope(db.writer) as session:
        rules.replace(session, program_id=program.id, body={"rules": rule_bodies}, now=clock())
    yield program
    with db.reader() as session:
        report = verify(session)
    assert report.ok, report


def _ingest(
    db: Database, program: ProgramSettings, bodies: list[dict[str, Any]], gap: int = GAP
) -> Any:
    """On SQLite as the import's processes do it: planned on a snapshot, with a block of ids
    `gap` above the largest ones."""
    with session_scope(db.writer) as session, db.reader() as snapshot:
        early = fastpath.Early(snapshot, _block(db, len(bodies), gap)) if db.is_sqlite else None
        current = rules.in_force(snapshot if early else session, program.id)
        return fastpath.ingest_many(
            session,
            program=program,
            rules=current,
            events=_inputs(bodies),
            now=START + 100 * HOUR,
            tiers=None,
            engaged=NO_FEATURES,
            early=early,
        )


def _block(db: Database, size: int, gap: int) -> batchstate.IdBlock:
    with db.reader() as session:
        tops = batchstate.tops(Raw(session))
    firsts = (tops[0] + gap, tops[1] + gap, tops[2] + gap)
    ceilings = (firsts[0] + size - 1, firsts[1] + size - 1, firsts[2] + size - 1)
    return batchstate.IdBlock(firsts, size, ceilings)


def _ids(db: Database, program: ProgramSettings, table: str) -> list[int]:
    with db.reader() as session:
        found = session.execute(
            text(f"SELECT id FROM {table} WHERE program_id = :p ORDER BY id"), {"p": program.id}
        )
        return [int(i) for i in found.scalars()]


def _elsewhere(db: Database, program: ProgramSettings, body: dict[str, Any]) -> dict[str, Any]:
    """The same event sent through the one-by-one path, in a transaction of its own."""
    with session_scope(db.writer) as session:
        return service.ingest(
            session, program=program, event=_inputs([body])[0], now=START + 100 * HOUR
        )


def _balance(db: Database, program: ProgramSettings, customer: str) -> tuple[int, int, int]:
    with db.reader() as session:
        row = session.execute(
            text(
                "SELECT b.available, b.pending, b.debt FROM balances b JOIN members m "
                "ON m.id = b.member_id WHERE b.program_id = :p AND m.external_id = :e"
            ),
            {"p": program.id, "e": customer},
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _order(customer: str, amount: str, at_hour: int = 10, **kw: Any) -> dict[str, Any]:
    data = order_data(line("sku", 1, amount), order_id=kw.pop("order_id", None))
    return event("order.placed", data, customer=customer, at=START + at_hour * HOUR, **kw)


def _others(n: int = 3) -> list[dict[str, Any]]:
    return [_order(uid("other"), "5.00") for _ in range(n)]


def test_a_large_batch_plans_before_locking_and_a_small_one_after(
    db: Database, make_program: ProgramFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("SQLite plans before locking only when asked to (`Early`, below)")
    spy = Reads(monkeypatch)
    with _program(db, make_program, clock, [BASE]) as program:
        _ingest(db, program, _others(fastpath.OPTIMISTIC_FROM - 1))
        # Below the threshold: locked from the first read; the new members enrolled are then
        # read (locked) without drawing ids again.
        assert spy.calls == [(True, True), (True, False)]
        spy.calls.clear()
        _ingest(db, program, _others(fastpath.OPTIMISTIC_FROM))
        assert spy.calls[0] == (False, True)  # planned on an unlocked read...
        assert spy.calls[1] == (False, False)  # (the members just enrolled)
        assert spy.calls[-1] == (True, False)  # ...and checked under the lock, drawing no ids
        assert spy.plans == 2  # nothing changed in between: one plan each


def test_an_undisturbed_large_batch_inserts_its_rows_before_it_locks_its_members(
    db: Database, make_program: ProgramFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: planned on an unlocked read, inserted, then its members locked and read
    alone (its own rows would be found by the other reads), the plan kept."""
    if not db.url.startswith("postgresql"):
        pytest.skip("SQLite takes its write lock before writing anything")
    steps: list[str] = []
    read, insert = batchstate.read, batchwrite.insert_rows

    def spied_read(*args: Any, lock: bool = True, members_only: bool = False, **kw: Any) -> Any:
        steps.append(("locked " if lock else "") + ("members" if members_only else "read"))
        return read(*args, lock=lock, members_only=members_only, **kw)

    def spied_insert(*args: Any) -> None:
        steps.append("insert")
        insert(*args)

    monkeypatch.setattr(batchstate, "read", spied_read)
    monkeypatch.setattr(batchwrite, "insert_rows", spied_insert)
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("regular", "1.00", at_hour=1))
        steps.clear()
        outcomes = _ingest(
            db, program, [_order("regular", "30.00"), *_others(fastpath.OPTIMISTIC_FROM)]
        )
        assert outcomes[0]["points"]["awarded"] == 30
        assert steps == ["read", "read", "insert", "locked members"]  # (2nd: new members)
        assert _balance(db, program, "regular") == (31, 0, 0)


def test_a_batch_inserts_while_another_holds_one_of_its_members(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    """A batch sharing a member with another transaction waits for that member's lock only
    with its rows already inserted: the wait covers the other's commit, not this insert."""
    if not db.url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second transaction waits for the whole first")
    with _program(db, make_program, clock, [BASE]) as program:
        placed = _elsewhere(db, program, _order("shared", "1.00", at_hour=1))
        batch = [_order("shared", "30.00"), *_others(fastpath.OPTIMISTIC_FROM)]
        done: list[Any] = []
        with session_scope(db.writer) as holder:
            holder.execute(
                text("SELECT 1 FROM balances WHERE member_id = :m FOR UPDATE"),
                {"m": placed["member_id"]},
            )
            worker = threading.Thread(target=lambda: done.append(_ingest(db, program, batch)))
            worker.start()
            waiting = _waiting_with_rows_inserted(db)
            holder.rollback()
        worker.join(timeout=30)
        assert waiting
        assert done[0][0]["points"]["awarded"] == 30
        assert _balance(db, program, "shared") == (31, 0, 0)


def _waiting_with_rows_inserted(db: Database) -> bool:
    """Whether a backend waits for a row lock on its members-only read (`held`) while its
    transaction already holds the events it inserted (a RowExclusiveLock on `events`)."""
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE a.wait_event_type = 'Lock' AND a.query LIKE 'SELECT b.member_id%FOR UPDATE%' "
        "AND l.relation = 'events'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted)"
    )
    for _ in range(300):
        with db.reader() as session:
            if session.execute(query).scalar():
                return True
        time.sleep(0.02)
    return False


def test_a_debt_that_appears_meanwhile_is_paid_first(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        placed = _elsewhere(db, program, _order("owes", "40.00", at_hour=1))
        with session_scope(db.writer) as session:
            ledger.debit(
                session,
                program=program,
                member_id=placed["member_id"],
                points=40,
                reason="gift",
                now=START + 2 * HOUR,
            )
        cancel = event(
            "order.cancelled",
            {"order_id": placed["order_id"]},
            customer="owes",
            at=START + 3 * HOUR,
        )
        reads.before_lock = lambda: _elsewhere(db, program, cancel)
        _ingest(db, program, [_order("owes", "25.00"), *_others()])
        assert _balance(db, program, "owes") == (0, 0, 15)
        assert reads.plans == 2  # planned again on what the lock found


@pytest.mark.parametrize("copy", [False, True], ids=["pipeline", "copy"])
def test_an_event_recorded_meanwhile_is_answered_as_a_replay(
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
    reads: Reads,
    monkeypatch: pytest.MonkeyPatch,
    copy: bool,
) -> None:
    """On PostgreSQL the batch's insert fails on the event's unique key, is rolled back to
    its savepoint, and the batch is planned again: the same whether its rows go in one
    pipeline or by COPY (from `COPY_THRESHOLD` events)."""
    if copy:
        monkeypatch.setattr(batchwrite, "COPY_THRESHOLD", 1)
        monkeypatch.setattr(rawsql, "COPY_THRESHOLD", 1)
    with _program(db, make_program, clock, [BASE, REVIEW]) as program:
        _elsewhere(db, program, _order("twice", "1.00", at_hour=1))  # a known member
        body = event("review.submitted", {"rating": 5}, customer="twice", at=START + 10 * HOUR)
        first: dict[str, Any] = {}
        reads.before_lock = lambda: first.update(_elsewhere(db, program, body))
        outcomes = _ingest(db, program, [body, *_others()])
        assert outcomes[0] == first
        assert _balance(db, program, "twice") == (21, 0, 0)


def test_an_order_placed_meanwhile_under_another_event_id_is_refused(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("shop", "1.00", at_hour=1))
        body = _order("shop", "30.00")
        other_id = dict(body, id=uid("evt"))
        reads.before_lock = lambda: _elsewhere(db, program, other_id)
        outcomes = _ingest(db, program, [body, *_others()])
        assert outcomes[0].code == "order_exists"
        assert all(isinstance(o, dict) for o in outcomes[1:])
        assert _balance(db, program, "shop") == (31, 0, 0)


def test_a_first_order_recorded_meanwhile_takes_the_welcome_bonus_away(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE, WELCOME]) as program:
        _elsewhere(db, program, event("review.submitted", {"rating": 5}, customer="newbie"))
        earlier = _order("newbie", "10.00", at_hour=5)
        reads.before_lock = lambda: _elsewhere(db, program, earlier)
        outcomes = _ingest(db, program, [_order("newbie", "20.00", at_hour=10), *_others()])
        assert outcomes[0]["points"]["awarded"] == 20  # no second welcome bonus
        assert _balance(db, program, "newbie") == (10 + 50 + 20, 0, 0)


def test_another_credit_meanwhile_keeps_the_plan_and_both_count(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("busy", "1.00", at_hour=1))
        reads.before_lock = lambda: _elsewhere(db, program, _order("busy", "7.00", at_hour=2))
        _ingest(db, program, [_order("busy", "30.00"), *_others()])
        assert _balance(db, program, "busy") == (38, 0, 0)
        assert reads.plans == 1  # the balance moved by an increment: the plan still held


def test_first_orders_matter_only_where_something_looks_at_them() -> None:
    with_welcome = parse_rule_set({"rules": [BASE, WELCOME]})
    without = parse_rule_set({"rules": [BASE]})
    orders = _inputs([_order("x", "1.00")])
    reviews = _inputs([event("review.submitted", {"rating": 5}, customer="x")])
    assert batchstate.first_orders_matter(with_welcome, orders, NO_FEATURES)
    assert not batchstate.first_orders_matter(with_welcome, reviews, NO_FEATURES)
    assert not batchstate.first_orders_matter(without, orders, NO_FEATURES)
    assert batchstate.first_orders_matter(without, orders, frozenset({"badges"}))
    assert batchstate.first_orders_matter(without, orders, None)  # not known: assume they do


def test_a_batch_reads_first_orders_only_where_something_looks_at_them(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    """A first order is a lookup per member; without a rule or feature to look at it, none."""
    with _program(db, make_program, clock, [BASE]) as program:
        outcomes = _ingest(db, program, [_order("plain", "10.00"), *_others()])
        assert outcomes[0]["points"]["awarded"] == 10
    assert reads.histories
    assert not any(reads.histories)
    reads.histories.clear()
    with _program(db, make_program, clock, [BASE, WELCOME]) as program:
        outcomes = _ingest(db, program, [_order("fresh", "10.00"), *_others()])
        assert outcomes[0]["points"]["awarded"] == 10 + 50
    assert reads.histories
    assert all(reads.histories)


def test_first_orders_read_or_not_are_what_the_member_has(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("known", "1.00", at_hour=3))
        inputs = _inputs([_order("known", "2.00")])
        with db.reader() as session:
            raw = Raw(session)
            read = batchstate.read(raw, program.id, inputs, [], lock=False, draw=False)
            unread = batchstate.read(
                raw, program.id, inputs, [], lock=False, draw=False, history=False
            )
    (member_id,) = read.balances
    assert read.first_orders == {member_id: START + 3 * HOUR}
    assert unread.first_orders == {}
    assert unread.members == read.members
    assert unread.balances == read.balances


def test_a_member_enrolled_meanwhile_gets_the_points(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    program = make_program(auto_enrol=False)
    with session_scope(db.writer) as session:
        rules.replace(session, program_id=program.id, body={"rules": [BASE]}, now=clock())

    def enrol() -> None:
        with session_scope(db.writer) as session:
            members.enrol(
                session, program_id=program.id, external_id="late", channel=Channel.WEB, now=clock()
            )

    reads.before_lock = enrol
    outcomes = _ingest(db, program, [_order("late", "12.00"), _order("late", "3.00")])
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert _balance(db, program, "late") == (15, 0, 0)


@pytest.fixture
def _sqlite_only(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL draws its ids from sequences: no block to set aside")


@pytest.mark.usefixtures("_sqlite_only")
def test_on_sqlite_a_batch_asked_to_plans_on_a_snapshot_and_checks_under_the_lock(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        before = _ids(db, program, "ledger_transactions")
        block = _block(db, 3, GAP)
        _ingest(db, program, _others(3))
        assert reads.calls[0] == (False, False)  # a snapshot, no ids drawn: the block's
        assert reads.calls[-1] == (True, False)  # checked under the lock
        assert reads.plans == 1
        assert _ids(db, program, "ledger_transactions")[len(before) :] == list(
            range(block.firsts[0], block.firsts[0] + 3)
        )


@pytest.mark.usefixtures("_sqlite_only")
def test_on_sqlite_ids_another_writer_took_meanwhile_are_drawn_above_every_block(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("first", "1.00", at_hour=1))
        block = _block(db, 3, gap=1)  # the very next ids, which the next writer takes
        reads.before_lock = lambda: _elsewhere(db, program, _order("between", "2.00"))
        outcomes = _ingest(db, program, _others(3), gap=1)
        assert all(isinstance(o, dict) for o in outcomes), outcomes
        assert reads.plans == 2  # the block was taken: planned again under the lock
        batch = _ids(db, program, "ledger_transactions")[-3:]
        assert min(batch) > block.ceilings[0]
        assert [o["transaction_id"] for o in outcomes] == batch
        assert _balance(db, program, "between") == (2, 0, 0)
