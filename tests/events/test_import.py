"""Bulk import: the fast path writes what one-by-one ingestion writes; re-import adds nothing;
the skip report counts every row; the CLI prints the summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from punchcard.cli import app
from punchcard.db import Database, session_scope
from punchcard.events import service
from punchcard.events.importer import import_orders
from punchcard.events.sources import read
from punchcard.kit.clock import FixedClock
from punchcard.ledger import queries
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.models import Event, Order
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from tests.conftest import ProgramFactory

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_sample.txt"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "orders.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


CDNOW_LINES = [
    " customer_id  date number_of_cds  dollar_value",
    " 00001 19970101  1   11.77",
    " 00001 19970101  2   20.00",  # a second order the same day stays a separate order
    " 00002 19970112  1    0.00",  # zero value: skipped
    " 00003 19970112  x   12.00",  # unreadable
    " 00003 19970301  3   45.50",
]


def _snapshot(db: Database, program: ProgramSettings) -> dict[str, object]:
    with db.reader() as session:
        ids = members.find_ids(session, program_id=program.id, external_ids=["00001", "00003"])
        balances = {k: queries.balance(session, program.id, v) for k, v in ids.items()}
        results = dict(
            session.execute(
                select(Event.source_id, Event.result).where(Event.program_id == program.id)
            ).all()
        )
    return {
        "balances": {k: (b.available, b.pending, b.lifetime_earned) for k, b in balances.items()},
        "results": {
            k: {**json.loads(v or "{}"), "member_id": None, "transaction_id": None}
            for k, v in results.items()
        },
    }


def test_fast_path_equals_one_by_one_ingestion(
    db: Database, make_program: ProgramFactory, tmp_path: Path
) -> None:
    settings = {"pending_days": 14, "expiry_policy": ExpiryPolicy.END_OF_YEAR, "expiry_value": 12}
    fast, slow = make_program(**settings), make_program(**settings)
    path = _write(tmp_path, CDNOW_LINES)
    report = import_orders(db, program_id=fast.id, rows=read(path, "cdnow"), fmt="cdnow", now=NOW)
    assert report.as_json() == {
        "orders_read": 5,
        "orders_imported": 3,
        "members_created": 2,
        "skipped": {"unreadable": 1, "zero_value": 1},
    }
    from punchcard.events.importer import _event
    from punchcard.events.sources import OrderRow

    with session_scope(db.writer) as session:
        for row in read(path, "cdnow"):
            if isinstance(row, OrderRow):
                service.ingest(session, program=slow, event=_event(row, "cdnow"), now=NOW)
    assert _snapshot(db, fast) == _snapshot(db, slow)
    with db.reader() as session:
        assert verify(session, fast.id).ok
        orders = session.execute(
            select(Order.order_id).where(Order.program_id == fast.id).order_by(Order.order_id)
        ).scalars()
        assert list(orders) == ["00001-19970101-1", "00001-19970101-2", "00003-19970301-1"]


def test_reimporting_the_same_file_imports_nothing(
    db: Database, make_program: ProgramFactory, tmp_path: Path
) -> None:
    program = make_program()
    path = _write(tmp_path, CDNOW_LINES)
    import_orders(db, program_id=program.id, rows=read(path, "cdnow"), fmt="cdnow", now=NOW)
    again = import_orders(db, program_id=program.id, rows=read(path, "cdnow"), fmt="cdnow", now=NOW)
    assert again.as_json() == {
        "orders_read": 5,
        "orders_imported": 0,
        "members_created": 0,
        "skipped": {"already_imported": 3, "unreadable": 1, "zero_value": 1},
    }
    with db.reader() as session:
        count = session.execute(
            select(func.count()).select_from(Event).where(Event.program_id == program.id)
        ).scalar_one()
    assert count == 3


def test_csv_format_and_member_not_found_without_auto_enrolment(
    db: Database, make_program: ProgramFactory, tmp_path: Path
) -> None:
    program = make_program(auto_enrol=False)
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,order_id,occurred_at,total,currency\n"
        "c1,o1,2026-03-01T10:00:00Z,10.50,EUR\n"
        "c2,o2,not-a-date,3.00,EUR\n"
        "c3,o3,2026-03-01T10:00:00Z,10.005,EUR\n"
        "c4,o4,2026-03-01T10:00:00Z,10.00,EURO\n"
    )
    report = import_orders(db, program_id=program.id, rows=read(path, "csv"), fmt="csv", now=NOW)
    assert report.as_json()["skipped"] == {
        "invalid_event_data": 2,
        "member_not_found": 1,
        "unreadable": 1,
    }


def test_sample_file_through_the_cli(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program()
    args = ["import", "orders", str(SAMPLE), "--format", "cdnow-sample", "--db", db.url]
    result = CliRunner().invoke(app, [*args, "--program", str(program.id), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["orders_read"] == 6919
    assert summary["orders_imported"] + sum(summary["skipped"].values()) == 6919
    assert summary["skipped"] == {"zero_value": 8}
    assert summary["members_created"] == 2349
    with db.reader() as session:
        assert verify(session, program.id).ok
    bad = CliRunner().invoke(app, [*args[:4], "--format", "xml", "--db", db.url])
    assert bad.exit_code == 2


def test_the_statistics_refresh_covers_every_looked_up_column(
    db: Database, backend: str, make_program: ProgramFactory, tmp_path: Path
) -> None:
    """PostgreSQL: after a refresh the planner knows the lookups' columns; the events' JSON
    documents, which nothing looks rows up by, are left out (most of a full ANALYZE's work)."""
    from sqlalchemy import text

    from punchcard.events.importer import ANALYZED, refresh_statistics
    from punchcard.models.base import Base

    for table, columns in ANALYZED.items():  # a renamed column would make ANALYZE fail
        assert set(columns) <= set(Base.metadata.tables[table].columns.keys()), table
    if backend != "postgresql":
        return
    program = make_program()
    path = _write(tmp_path, CDNOW_LINES)
    import_orders(db, program_id=program.id, rows=read(path, "cdnow"), fmt="cdnow", now=NOW)
    with db.engine.begin() as conn:  # forget what earlier tests' ANALYZE (or autovacuum) left
        conn.execute(text("DELETE FROM pg_statistic WHERE starelid = 'events'::regclass"))
    refresh_statistics(db)
    with db.engine.connect() as conn:
        analyzed = {
            str(r[0])
            for r in conn.execute(
                text(
                    "SELECT attname FROM pg_stats WHERE schemaname = 'public' "
                    "AND tablename = 'events'"
                )
            )
        }
    assert {"program_id", "source_id", "member_id"} <= analyzed
    assert "result" not in analyzed
    assert "explanation" not in analyzed
