"""An import spread over processes writes what one process writes, reports the same, takes an
order id two processes share once, and stops with one clear error when a process fails; on
both databases (SQLite's processes plan before taking its write lock, with ids set aside)."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from punchcard.cli import app
from punchcard.db import Database, open_database, session_scope
from punchcard.events import batchstate, importer, importworkers, service
from punchcard.events.importer import import_orders
from punchcard.events.importworkers import ImportWorkerError, deal
from punchcard.events.sources import OrderRow, read
from punchcard.ledger.verify import verify
from punchcard.models import Order
from punchcard.programs.domain import ExpiryPolicy
from tests.conftest import ProgramFactory
from tests.events.test_fast_paths import _inputs, _state
from tests.events.test_import import SAMPLE

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CDNOW = SAMPLE.with_name("CDNOW_master.txt")


def test_processes_write_what_one_process_writes(
    db: Database, make_program: ProgramFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importworkers, "WINDOW", 2000)  # the file in four windows
    settings = {"pending_days": 14, "expiry_policy": ExpiryPolicy.END_OF_YEAR, "expiry_value": 12}
    one, many = make_program(**settings), make_program(**settings)
    reports, advanced = {}, {}
    for program, workers in ((one, 1), (many, 3)):
        counted: list[int] = []
        reports[workers] = import_orders(
            db,
            program_id=program.id,
            rows=read(SAMPLE, "cdnow-sample"),
            fmt="cdnow-sample",
            now=NOW,
            batch_size=500,  # several batches per process
            progress=counted.append,
            workers=workers,
        )
        advanced[workers] = sum(counted)
    assert reports[3].as_json() == reports[1].as_json()
    assert reports[3].as_json()["orders_read"] == 6919
    assert reports[3].examples == reports[1].examples
    assert advanced[3] == advanced[1] == 6919
    assert _state(db, many.id) == _state(db, one.id)
    with db.reader() as session:
        assert verify(session, many.id).ok


def _row(n: int, customer: str) -> OrderRow:
    return OrderRow(n, customer, f"o{n}", NOW, Decimal("1.00"))


def test_customers_are_dealt_out_whole_evenly_and_the_same_way_every_time() -> None:
    rng = random.Random(4)
    customers = [f"c{n}" for n in range(300)]
    weights = [rng.choice((1, 1, 1, 2, 3, 8, 40)) for _ in customers]  # a few big customers
    rows = [_row(n, c) for n, c in enumerate(rng.choices(customers, weights, k=5000))]
    parts = deal(rows, 3)
    assert parts == deal(list(rows), 3)
    assert sorted((r for part in parts for r in part), key=lambda r: r.line_no) == rows
    for part in parts:
        assert [r.line_no for r in part] == sorted(r.line_no for r in part)  # in file order
    owners: dict[str, set[int]] = {}
    for index, part in enumerate(parts):
        for row in part:
            owners.setdefault(row.external_id, set()).add(index)
    assert all(len(found) == 1 for found in owners.values())  # each customer in one part
    largest = max(Counter(r.external_id for r in rows).values())
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= largest


def test_the_cdnow_file_is_dealt_out_within_a_customer_of_even() -> None:
    rows = [r for r in read(CDNOW, "cdnow") if isinstance(r, OrderRow)]
    sizes = sorted(len(part) for part in deal(rows, 2))
    assert sizes[1] - sizes[0] <= max(Counter(r.external_id for r in rows).values())


def _customers_in_two_parts() -> tuple[str, str]:
    """Two customers with as many orders each, in the order they first appear: the first goes
    to the first process, the second to the other."""
    first, second = "c0", "c1"
    parts = deal([_row(1, first), _row(2, second), _row(3, first), _row(4, second)], 2)
    assert {r.external_id for r in parts[0]} == {first}
    return first, second


def test_an_order_id_two_processes_share_is_imported_once(
    db: Database, make_program: ProgramFactory, tmp_path: Path
) -> None:
    """Both processes reach the order id together: on PostgreSQL a transaction elsewhere holds
    it, uncommitted, while they write, and commits once they wait for it. On SQLite a
    transaction held open across the fork would be copied into the children (its locks are a
    process's own), so there the two processes race for it alone."""
    program = make_program()
    a, b = _customers_in_two_parts()
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,order_id,occurred_at,total,currency\n"
        f"{a},dup,2026-03-01T10:00:00Z,10.00,EUR\n"
        f"{b},dup,2026-03-01T11:00:00Z,20.00,EUR\n"
        f"{a},a2,2026-03-02T10:00:00Z,5.00,EUR\n"
        f"{b},b2,2026-03-02T10:00:00Z,6.00,EUR\n"
    )
    if db.is_sqlite:  # the same order id is the same event id here: a replay, as in one process
        alone = make_program()
        one = import_orders(db, program_id=alone.id, rows=read(path, "csv"), fmt="csv", now=NOW)
        report = import_orders(
            db, program_id=program.id, rows=read(path, "csv"), fmt="csv", now=NOW, workers=2
        )
        assert report.as_json() == one.as_json()
        assert report.orders_imported == 3
        assert report.skipped == {"already_imported": 1}
        with db.reader() as reader:
            assert verify(reader, program.id).ok
        return
    blocker = _inputs([_csv_event("elsewhere", "dup")])[0]
    session_cm = session_scope(db.writer)
    session = session_cm.__enter__()
    service.ingest(session, program=program, event=blocker, now=NOW)  # holds "dup", uncommitted
    timer = threading.Timer(2.0, lambda: session_cm.__exit__(None, None, None))
    timer.start()
    try:
        report = import_orders(
            db, program_id=program.id, rows=read(path, "csv"), fmt="csv", now=NOW, workers=2
        )
    finally:
        timer.join()
    assert report.orders_imported == 2
    assert report.skipped == {"order_exists": 2}
    with db.reader() as reader:
        owners = reader.execute(
            select(func.count()).select_from(Order).where(Order.program_id == program.id)
        ).scalar_one()
        assert owners == 3  # dup (elsewhere), a2, b2
        assert verify(reader, program.id).ok


def _csv_event(customer: str, order_id: str) -> dict[str, object]:
    from tests.events.test_events_api import event, line, order_data

    return event(
        "order.placed",
        order_data(line("sku", 1, "1.00"), order_id=order_id),
        customer=customer,
        at="2026-03-01T09:00:00Z",
    )


def test_the_statistics_are_refreshed_by_the_process_that_waits(
    db: Database, make_program: ProgramFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """They are the database's, not a process's: refreshed in a child they made it the last
    to finish, and with each child refreshing them one ANALYZE waited for another's and then
    did the same work again. The parent, which only waits for the children, refreshes them
    as the batches are written."""
    calls = tmp_path / "refreshes"

    def noted(database: Database) -> None:  # a child would note its own process id
        with calls.open("a") as out:
            out.write(f"{os.getpid()}\n")

    monkeypatch.setattr(importer, "refresh_statistics", noted)
    program = make_program()
    rows = [r for r in read(SAMPLE, "cdnow-sample") if isinstance(r, OrderRow)]
    batches = sum(-(-len(part) // 200) for part in deal(rows, 3))
    report = import_orders(
        db,
        program_id=program.id,
        rows=read(SAMPLE, "cdnow-sample"),
        fmt="cdnow-sample",
        now=NOW,
        batch_size=200,  # 36 batches: 12 a process, past one process's points 1, 4 and 10
        workers=3,
    )
    assert report.orders_imported > 0
    assert batches == 36
    assert calls.read_text().split() == [str(os.getpid())] * 3  # after 3, 12 and 30 batches


def test_the_statistics_are_refreshed_at_one_process_points_times_the_processes() -> None:
    due = [n for n in range(1, 100) if importworkers.refresh_due(n, 2)]
    assert due == [2, 8, 20, 40, 80]
    assert [n for n in range(1, 50) if importworkers.refresh_due(n, 1)] == [1, 4, 10, 20, 40]


def test_a_failing_process_stops_the_import_with_one_clear_error(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,order_id,occurred_at,total,currency\n"
        + "".join(f"c{n},o{n},2026-03-01T10:00:00Z,10.00,EUR\n" for n in range(10))
    )
    with pytest.raises(ImportWorkerError) as raised:
        import_orders(db, program_id=10**9, rows=read(path, "csv"), fmt="csv", now=NOW, workers=2)
    assert "import process" in raised.value.message
    assert "run the import again" in raised.value.message
    assert "\n" not in raised.value.message


def test_the_cli_takes_a_number_of_workers(db: Database, make_program: ProgramFactory) -> None:
    program = make_program()
    args = ["import", "orders", str(SAMPLE), "--format", "cdnow-sample", "--db", db.url]
    done = CliRunner().invoke(app, [*args, "--program", str(program.id), "--workers", "2"])
    assert done.exit_code == 0, done.output
    assert "imported 6911 orders" in done.output
    refused = CliRunner().invoke(app, [*args, "--program", str(program.id), "--workers", "0"])
    assert refused.exit_code == 2


def test_a_sqlite_database_in_memory_is_imported_in_one_process(tmp_path: Path) -> None:
    """No other process can open it: `--workers` is not honoured there."""
    assert importer._in_memory(open_database("sqlite://"))
    assert importer._in_memory(open_database("sqlite:///:memory:"))
    assert not importer._in_memory(open_database(f"sqlite:///{tmp_path / 'file.db'}"))
    assert not importer._in_memory(open_database("postgresql+psycopg://u@127.0.0.1/x"))


def test_an_import_locks_its_members_before_planning_and_reads_them_once(
    db: Database, make_program: ProgramFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No one else shares an import's customers, so a batch takes its locks at the first read
    (no second read to check an early plan against), and after enrolling new members reads
    only their events again, drawing no second set of ids."""
    calls: list[tuple[int, bool, bool]] = []
    histories: list[bool] = []
    spied = batchstate.read

    def spy(raw: Any, program_id: int, events: list[Any], *args: Any, **kw: Any) -> Any:
        calls.append((len(events), kw.get("lock", True), kw.get("draw", True)))
        histories.append(kw.get("history", True))
        return spied(raw, program_id, events, *args, **kw)

    monkeypatch.setattr(batchstate, "read", spy)
    program = make_program()
    report = import_orders(
        db, program_id=program.id, rows=read(SAMPLE, "cdnow-sample"), fmt="cdnow-sample",
        now=NOW, batch_size=500, workers=1,
    )  # fmt: skip
    assert report.orders_imported == 6911
    assert all(lock for _, lock, _ in calls)
    drawing = [n for n, _, draw in calls if draw]
    assert sum(drawing) == 6919 - 8  # one draw per batch, of the batch's size
    enrolled = [n for n, _, draw in calls if not draw]
    assert enrolled  # read again: the events of new members only
    assert sum(enrolled) < 6911
    assert not any(histories)  # the default rule set and no feature: no first order looked up
    with db.reader() as session:
        assert verify(session, program.id).ok
