"""The snapshots take an order in only once nothing inside their bounds can still commit, and
read every row outside them live: an order written with an old id after the bounds moved (what
the express lane does with ids from a block drawn earlier) and an order of a transaction open
across job runs are each counted once, before and after the job takes them in."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis import bounds, refresh, rollup
from punchcard.analytics.kpis.tasks import refresh_rollup
from punchcard.db import session_scope
from punchcard.kit.clock import as_utc
from punchcard.models.event import Event
from punchcard.models.order import Order
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop, at

shop_fixture = kpi_helpers.shop_fixture


def _after_earlier_runs(shop: Shop) -> None:
    """The rollups' bounds belong to the database, not to a program: a test that ran the job
    earlier in this database with a later clock left them past this shop's clock, and this
    shop's rows would then all fall inside a time bound they were never taken in (the test
    failed in some orders of the suite). Move the shop's clock past them, as real time would
    be."""
    with shop.db.reader() as session:
        until = max(
            as_utc(bounds.current(session, name).until)
            for name in (refresh.EVENTS, refresh.MEMBERS, refresh.CHANGES, rollup.NAME)
        )
    if until >= shop.clock():
        shop.clock.set(until + timedelta(hours=1))


def _job(shop: Shop) -> None:
    for _ in range(2):  # on PostgreSQL the first run notes the bounds, the second takes them
        refresh_rollup(shop.db, now=shop.clock(), settle=timedelta(0))


def _orders(shop: Shop) -> tuple[int, str]:
    found = shop.summary()["orders"]
    return found["orders"], found["revenue"]


def _write_order(session: Session, shop: Shop, event_id: int | None, total: str) -> int:
    """An order and its event as the earn path writes them (explicit ids, like the express
    lane's), stamped with the shop's clock."""
    now = shop.clock()
    values = {
        "program_id": shop.api.program.id,
        "source_id": f"late-{uuid.uuid4().hex[:8]}",
        "type": "order.placed",
        "member_id": shop.members["A"],
        "occurred_at": at(3, 9),
        "channel": "web",
        "data": "{}",
        "created_at": now,
    }
    if event_id is not None:
        values["id"] = event_id
    found = session.execute(insert(Event).values(**values).returning(Event.id)).scalar_one()
    session.execute(
        insert(Order).values(
            program_id=shop.api.program.id,
            order_id=f"late-{uuid.uuid4().hex[:8]}",
            member_id=shop.members["A"],
            event_id=found,
            currency="USD",
            total=total,
            lines="[]",
            refunded_amount="0",
            refunded_quantities="{}",
            refunded_values="{}",
            status="placed",
            placed_at=at(3, 9),
        )
    )
    return int(found)


def test_an_old_id_written_after_the_bounds_moved_is_read_live_then_taken_once(
    shop: Shop,
) -> None:
    _after_earlier_runs(shop)
    _job(shop)
    count, revenue = _orders(shop)
    with shop.db.reader() as session:
        taken = bounds.current(session, refresh.EVENTS)
    assert taken.last_id > 0

    # An id below the bounds' id (as from a block drawn before the job ran), written later.
    shop.clock.set(shop.clock() + timedelta(hours=1))
    with session_scope(shop.db.writer) as session:
        low = session.execute(select(Event.id).order_by(Event.id).limit(1)).scalar_one()
        _write_order(session, shop, int(low) - 1000, "7.00")

    after = _orders(shop)
    assert after[0] == count + 1
    shop.clock.set(shop.clock() + timedelta(hours=1))
    _job(shop)
    assert _orders(shop) == after
    assert float(after[1]) == float(revenue) + 7


def test_an_order_committed_after_a_job_noted_its_bounds_is_counted_once(
    shop: Shop, backend: str
) -> None:
    _after_earlier_runs(shop)
    _job(shop)
    count, _ = _orders(shop)
    shop.clock.set(shop.clock() + timedelta(hours=1))
    slow = shop.db.writer()
    if backend == "postgresql":  # SQLite has one writer: nothing can stay open across a run
        _write_order(slow, shop, None, "5.00")
        slow.flush()
        shop.clock.set(shop.clock() + timedelta(hours=1))
        _job(shop)  # notes bounds past the open order, and cannot take them yet
        assert _orders(shop)[0] == count
    else:
        _write_order(slow, shop, None, "5.00")
    slow.commit()
    slow.close()
    assert _orders(shop)[0] == count + 1
    with shop.db.reader() as session:
        before = bounds.current(session, refresh.EVENTS)
    for _ in range(100):  # a transaction ending in this database can delay the take
        shop.clock.set(shop.clock() + timedelta(minutes=1))
        _job(shop)
        with shop.db.reader() as session:
            if bounds.current(session, refresh.EVENTS) != before:
                break
        time.sleep(0.05)
    assert _orders(shop)[0] == count + 1
