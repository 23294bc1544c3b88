"""The API's large batches on SQLite plan before the write lock with ids of a slot of their
own (`events.idslots`), so that several server processes plan at once: slots in flight never
share a block, a slot is held until its batch commits, and a batch whose ids another writer
took is planned again under the lock."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from punchcard.db import Database, open_database
from punchcard.events import fastpath, idslots
from punchcard.events.batchstate import IdBlock
from tests.conftest import Api
from tests.events.test_batch_races import Reads, _balance, _elsewhere, _order
from tests.events.test_events_api import uid

tops_ = st.tuples(*(st.integers(0, 10**9) for _ in range(3)))
slots_ = st.integers(0, idslots.SLOTS - 1)


def _span(block: IdBlock, table: int) -> range:
    return range(block.firsts[table], block.firsts[table] + block.size)


@given(tops_, tops_, slots_, slots_)
def test_two_slots_in_flight_never_share_an_id(
    first: tuple[int, int, int], second: tuple[int, int, int], one: int, other: int
) -> None:
    """Whatever the largest ids each batch read (another's commit may lie between the two
    reads), blocks of different slots are disjoint, and each lies above what it read."""
    if one == other:
        return
    a, b = idslots.block(first, one), idslots.block(second, other)
    for table in range(3):
        assert not set(_span(a, table)) & set(_span(b, table))
        assert a.firsts[table] > first[table]
        assert b.firsts[table] > second[table]
        assert (a.firsts[table] - 1) // idslots.SIZE % idslots.SLOTS == one


@given(tops_, slots_, st.integers(0, 10 * idslots.SIZE))
def test_ids_drawn_under_the_lock_lie_above_every_block_in_flight(
    read: tuple[int, int, int], slot: int, grown: int
) -> None:
    """`above` (a batch whose block was taken) starts past any block a batch in flight could
    hold: one planned on ids no larger than the largest ids now."""
    block = idslots.block(read, 0)
    now = (read[0] + grown, read[1] + grown, read[2] + grown)
    in_flight = idslots.block(now, slot)  # the latest any batch in flight could have read
    for table in range(3):
        start = max(now[table] + block.spread, block.ceilings[table]) + 1
        assert start > in_flight.firsts[table] + in_flight.size - 1


def _claim_in_child(db_url: str, answer: Any) -> None:
    handle = open_database(db_url)
    with idslots.claimed(handle) as slot:
        answer.put(slot)


def test_a_slot_is_held_until_left_and_no_two_holders_share_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'slots.db'}"
    handle = open_database(url)
    with idslots.claimed(handle) as first:
        assert first == 0
        answers: Any = multiprocessing.get_context("spawn").Queue()
        child = multiprocessing.get_context("spawn").Process(
            target=_claim_in_child, args=(url, answers)
        )
        child.start()
        child.join(60)
        assert answers.get(timeout=5) == 1  # another process skips the slot held here
    with idslots.claimed(handle) as again:
        assert again == 0  # left: free again
    handle.dispose()


def test_a_process_takes_one_large_batch_at_a_time(tmp_path: Path) -> None:
    """A second batch of this process waits for the first one's commit (`db.batch_turn`): it
    neither plans beside it, sharing the interpreter with the one that holds the write lock,
    nor takes a second slot."""
    handle = open_database(f"sqlite:///{tmp_path / 'turn.db'}")
    entered = threading.Event()
    slots: list[int | None] = []

    def second() -> None:
        with idslots.claimed(handle) as slot:
            slots.append(slot)
            entered.set()

    with idslots.claimed(handle) as first:
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.5)  # still waiting for this one
        assert first == 0
    thread.join(10)
    assert entered.is_set()  # its turn came once this one left
    assert slots == [0]
    handle.dispose()


def test_a_database_in_memory_has_no_slots() -> None:
    handle = open_database("sqlite://")
    with idslots.claimed(handle) as slot:
        assert slot is None
    handle.dispose()


@pytest.fixture
def _sqlite_file(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL plans its batches before locking without slots (`fastpath`)")


class _Plans(Reads):
    """Each read and plan of the batch (`Reads`), and what each call of the fast path was
    given for an early plan."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.early: list[fastpath.Early | None] = []
        ingest = fastpath.ingest_many

        def spied(*args: Any, early: fastpath.Early | None = None, **more: Any) -> Any:
            self.early.append(early)
            return ingest(*args, early=early, **more)

        monkeypatch.setattr(fastpath, "ingest_many", spied)


def _orders(n: int) -> list[dict[str, Any]]:
    return [_order(uid("slot-cust"), "10.00") for _ in range(n)]


def _post(api: Api, events: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/events/batch", json={"events": events}, headers={**api.headers(), **headers}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["accepted"] == len(events), body
    return body


def _transactions(body: dict[str, Any]) -> list[int]:
    return [item["result"]["transaction_id"] for item in body["items"]]


def _largest_tx(db: Database) -> int:
    with db.reader() as session:
        return int(session.execute(text("SELECT max(id) FROM ledger_transactions")).scalar_one())


@pytest.mark.usefixtures("_sqlite_file")
def test_a_large_batch_on_sqlite_plans_before_the_write_lock_with_its_slots_block(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Plans(monkeypatch)
    _post(api, _orders(1))  # so that there is a largest id
    top = _largest_tx(db)
    body = _post(api, _orders(fastpath.OPTIMISTIC_FROM))
    assert spy.early[0] is None  # one event: planned under the lock
    planned = spy.early[1]
    assert planned is not None
    index = planned.ids.firsts[0] // idslots.SIZE  # the first block of slot 0 above `top`
    assert index % idslots.SLOTS == 0
    assert (index - idslots.SLOTS) * idslots.SIZE < top <= index * idslots.SIZE
    ids = _transactions(body)
    assert ids == list(range(planned.ids.firsts[0], planned.ids.firsts[0] + len(ids)))
    assert spy.plans == 2  # nothing came between: the early plan stood


@pytest.mark.usefixtures("_sqlite_file")
def test_a_batch_whose_ids_another_writer_took_is_planned_again_under_the_lock(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Plans(monkeypatch)
    _post(api, _orders(1))
    block = idslots.block

    def next_ids(tops: tuple[int, int, int], slot: int) -> IdBlock:
        """The very next ids, which the next writer without a slot takes."""
        return replace(block(tops, slot), firsts=(tops[0] + 1, tops[1] + 1, tops[2] + 1))

    monkeypatch.setattr(idslots, "block", next_ids)
    between: list[dict[str, Any]] = []
    spy.before_lock = lambda: between.append(_elsewhere(db, api.program, _order("between", "2.00")))
    body = _post(api, _orders(fastpath.OPTIMISTIC_FROM))
    assert spy.plans == 3  # the block was taken: planned again under the lock
    early = spy.early[-1]
    assert early is not None
    taken = between[0]["transaction_id"]
    assert early.ids.firsts[0] == taken
    assert min(_transactions(body)) > taken + early.ids.spread
    assert _balance(db, api.program, "between") == (2, 0, 0)


@pytest.mark.usefixtures("_sqlite_file")
def test_a_batch_with_an_idempotency_key_plans_under_the_lock(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is claimed in the batch's transaction, which then holds the write lock."""
    spy = _Plans(monkeypatch)
    _post(api, _orders(fastpath.OPTIMISTIC_FROM), **{"Idempotency-Key": uid("key")})
    assert spy.early == [None]
