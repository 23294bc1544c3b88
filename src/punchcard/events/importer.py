"""Bulk import of order history through the same rules and ledger as live events: batches of
events in one transaction each (a savepoint per event, so one bad row costs only itself)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from punchcard.db import Database, session_scope
from punchcard.engagement import hooks as engagement
from punchcard.errors import PunchcardError
from punchcard.events import fastpath, service
from punchcard.events.batchstate import IdBlock
from punchcard.events.sources import OrderRow, Skip
from punchcard.models import Member
from punchcard.programs import service as programs
from punchcard.rules import service as rules


@dataclass
class ImportReport:
    orders_read: int = 0
    orders_imported: int = 0
    members_created: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def skip(self, reason: str, line_no: int, text: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < 20:
            self.examples.append(f"line {line_no}: {reason}: {text}")

    def absorb(self, other: ImportReport) -> None:
        """Add up the report of another part of the same import (`importworkers`)."""
        self.orders_read += other.orders_read
        self.orders_imported += other.orders_imported
        self.members_created += other.members_created
        self.skipped.update(other.skipped)
        self.examples = sorted(self.examples + other.examples, key=_line_of)[:20]

    def as_json(self) -> dict[str, object]:
        return {
            "orders_read": self.orders_read,
            "orders_imported": self.orders_imported,
            "members_created": self.members_created,
            "skipped": dict(sorted(self.skipped.items())),
        }


def _line_of(example: str) -> int:
    return int(example.split(":", 1)[0].removeprefix("line "))


def _event(row: OrderRow, fmt: str) -> service.EventInput:
    data: dict[str, object] = {
        "order_id": row.order_id,
        "currency": row.currency,
        "total": str(row.total),
    }
    return service.EventInput(
        source_id=f"import:{fmt}:{row.order_id}",
        type="order.placed",
        member={"external_id": row.external_id},
        occurred_at=row.occurred_at,
        data=data,
    )


def _in_memory(db: Database) -> bool:
    url = db.engine.url
    return db.is_sqlite and url.database in (None, "", ":memory:")


def members_of(db: Database, program_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Member).where(Member.program_id == program_id)
            ).scalar_one()
        )


def import_orders(
    db: Database,
    *,
    program_id: int,
    rows: Iterable[OrderRow | Skip],
    fmt: str,
    now: datetime,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> ImportReport:
    """`workers`: processes to spread the customers over (`importworkers`); a SQLite database
    in memory, which no other process can open, is imported in this process whatever is asked."""
    if workers > 1 and not _in_memory(db):
        from punchcard.events import importworkers

        return importworkers.import_parallel(
            db,
            program_id=program_id,
            rows=rows,
            fmt=fmt,
            now=now,
            batch_size=batch_size,
            progress=progress,
            workers=workers,
        )
    report = ImportReport()
    before = members_of(db, program_id)
    batch: list[OrderRow] = []
    flushed = 0
    told = 0  # rows reported to `progress`: once a batch, not once a row
    for item in rows:
        report.orders_read += 1
        if isinstance(item, Skip):
            report.skip(item.reason, item.line_no, item.text)
        else:
            batch.append(item)
        if len(batch) >= batch_size:
            flush(db, program_id, batch, fmt, now, report)
            batch = []
            flushed += 1
            if refresh_due(flushed):
                refresh_statistics(db)
            if progress is not None:
                progress(report.orders_read - told)
                told = report.orders_read
    if batch:
        flush(db, program_id, batch, fmt, now, report)
    if progress is not None and report.orders_read > told:
        progress(report.orders_read - told)
    report.members_created = members_of(db, program_id) - before
    return report


def refresh_due(flushed: int) -> bool:
    """After which batches the statistics are refreshed (`refresh_statistics`)."""
    return flushed in (1, 4, 10) or flushed % 20 == 0


# The columns the earn paths look rows up by: the sizes of the tables and these columns'
# statistics are what the lookups' plans need. Statistics of the other columns (the events'
# JSON documents above all) took most of a full ANALYZE, a tenth of PostgreSQL's work in an
# import.
ANALYZED = {
    "members": ("program_id", "external_id", "id"),
    "balances": ("program_id", "member_id"),
    "events": ("program_id", "source_id", "member_id", "transaction_id"),
    "orders": ("program_id", "order_id", "member_id", "placed_at"),
    "lots": ("program_id", "member_id", "remaining", "expires_at"),
    "pending_credits": ("program_id", "member_id", "status", "release_at"),
}


def refresh_statistics(db: Database) -> None:
    """PostgreSQL plans by table statistics; a big import outgrows them long before autovacuum
    notices, and the lookups of later batches turn into scans. SQLite needs nothing."""
    if db.is_sqlite:
        return
    tables = ", ".join(f"{table} ({', '.join(columns)})" for table, columns in ANALYZED.items())
    with db.engine.connect() as conn:
        conn.execute(text(f"ANALYZE {tables}"))
        conn.commit()


@contextmanager
def _snapshot(db: Database, ids: IdBlock | None) -> Iterator[Session | None]:
    if ids is None:
        yield None
        return
    with db.reader() as session:
        yield session


def flush(
    db: Database,
    program_id: int,
    batch: list[OrderRow],
    fmt: str,
    now: datetime,
    report: ImportReport,
    ids: IdBlock | None = None,
) -> None:
    """`ids`: on SQLite, plan the batch before taking the write lock, with these ids
    (`fastpath.Early`: the import's processes plan while another one writes)."""
    events = [_event(row, fmt) for row in batch]
    line_of = {e.source_id: row.line_no for e, row in zip(events, batch, strict=True)}
    with session_scope(db.writer) as session, _snapshot(db, ids) as snapshot:
        reads = snapshot if snapshot is not None else session
        program = programs.get_program(reads, program_id)
        current = rules.in_force(reads, program_id)
        if all(fastpath.eligible(current.rules, e) for e in events[:1]):
            replayed: set[int] = set()
            early = None if snapshot is None or ids is None else fastpath.Early(snapshot, ids)
            outcomes = fastpath.ingest_many(
                session,
                program=program,
                rules=current,
                events=events,
                now=now,
                replayed=replayed,
                # Read up front, not after the write: with no feature set up and no rule
                # looking at first orders, the batch needs no first orders read.
                engaged=engagement.configured(reads, program_id),
                early=early,
                lock_first=True,  # each of the import's processes has its own customers
            )
            for index, (event, outcome) in enumerate(zip(events, outcomes, strict=True)):
                line = line_of[event.source_id]
                if isinstance(outcome, PunchcardError):
                    report.skip(outcome.code, line, outcome.message)
                elif index in replayed:
                    report.skip("already_imported", line, event.data["order_id"])
                else:
                    report.orders_imported += 1
            return
        for event in events:
            savepoint = session.begin_nested()
            try:
                _, replayed_one = service.ingest_once(
                    session, program=program, event=event, now=now
                )
            except PunchcardError as exc:
                savepoint.rollback()
                report.skip(exc.code, line_of[event.source_id], exc.message)
                continue
            savepoint.commit()
            if replayed_one:
                report.skip("already_imported", line_of[event.source_id], event.data["order_id"])
            else:
                report.orders_imported += 1
