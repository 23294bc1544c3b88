"""On SQLite a batch planned before the write lock (`fastpath.Early`) reads only its members
under the lock (`fastpath._holds`) and leaves its event and order ids to their unique keys:
an id committed meanwhile fails the insert, and the batch is planned again under the lock in
a new transaction. A batch that looks at first orders, which no key checks, reads everything
again as before. The other races (`test_batch_races`) run this path on SQLite too."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from punchcard.db import Database
from punchcard.events import batchstate, fastpath
from punchcard.kit.clock import FixedClock
from tests.conftest import ProgramFactory
from tests.events.test_batch_races import (
    GAP,
    Reads,
    _balance,
    _block,
    _elsewhere,
    _ingest,
    _order,
    _others,
    _program,
)
from tests.events.test_fast_paths import BASE, WELCOME


class _Kinds:
    """What each read of the batch was: ("snapshot" | "members" | "all", drew ids)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.kinds: list[tuple[str, bool]] = []
        read = batchstate.read

        def spied(*args: Any, **kw: Any) -> Any:
            kind = "members" if kw.get("members_only") else "all"
            if kw.get("lock", True) is False:
                kind = "snapshot"
            self.kinds.append((kind, kw.get("draw", True)))
            return read(*args, **kw)

        monkeypatch.setattr(batchstate, "read", spied)

    def locked(self) -> list[tuple[str, bool]]:
        """The reads under the write lock."""
        return [k for k in self.kinds if k[0] != "snapshot"]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    monkeypatch.setattr(fastpath, "OPTIMISTIC_FROM", 2)
    return Reads(monkeypatch)


@pytest.fixture
def kinds(db: Database, reads: Reads, monkeypatch: pytest.MonkeyPatch) -> _Kinds:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL inserts before it locks instead (`batchwrite.insert_early`)")
    return _Kinds(monkeypatch)


def _in_block(db: Database, first: int, last: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM ledger_transactions WHERE id BETWEEN :a AND :b"),
                {"a": first, "b": last},
            ).scalar_one()
        )


def test_an_undisturbed_batch_reads_only_its_members_under_the_lock(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads, kinds: _Kinds
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("regular", "1.00", at_hour=1))
        block = _block(db, 4, GAP)
        outcomes = _ingest(db, program, [_order("regular", "30.00"), *_others()])
        assert all(isinstance(o, dict) for o in outcomes), outcomes
        assert kinds.kinds[0] == ("snapshot", False)  # then the new customers' own
        assert kinds.locked() == [("members", False)]
        assert reads.plans == 1
        ids = [o["transaction_id"] for o in outcomes]
        assert ids == list(range(block.firsts[0], block.firsts[0] + 4))
        assert _balance(db, program, "regular") == (31, 0, 0)


def test_an_event_recorded_meanwhile_fails_the_insert_and_is_answered_as_a_replay(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads, kinds: _Kinds
) -> None:
    with _program(db, make_program, clock, [BASE]) as program:
        _elsewhere(db, program, _order("twice", "1.00", at_hour=1))
        body = _order("twice", "30.00")
        first: list[dict[str, Any]] = []
        reads.before_lock = lambda: first.append(_elsewhere(db, program, body))
        block = _block(db, 4, GAP)
        outcomes = _ingest(db, program, [body, *_others()])
        # read under the lock, members only; the insert failed on the event's key; then the
        # batch was read, with ids drawn, and planned again under the lock
        assert kinds.kinds[0] == ("snapshot", False)
        assert kinds.locked() == [("members", False), ("all", True)]
        assert reads.plans == 2
        assert outcomes[0]["transaction_id"] == first[0]["transaction_id"]
        assert all(isinstance(o, dict) for o in outcomes[1:])
        assert _in_block(db, block.firsts[0], block.ceilings[0]) == 0  # nothing of the first try
        assert _balance(db, program, "twice") == (31, 0, 0)


def test_a_batch_that_looks_at_first_orders_reads_everything_under_the_lock(
    db: Database, make_program: ProgramFactory, clock: FixedClock, reads: Reads, kinds: _Kinds
) -> None:
    with _program(db, make_program, clock, [BASE, WELCOME]) as program:
        outcomes = _ingest(db, program, [_order("new", "20.00"), *_others()])
        assert all(isinstance(o, dict) for o in outcomes), outcomes
        assert kinds.locked() == [("all", False)]
        assert reads.plans == 1
