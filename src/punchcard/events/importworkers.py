"""An import spread over several processes.

An import's time is mostly Python planning each order, and one process uses one core. Here the
rows are read once, dealt out by customer, evenly (`deal`: every order of a customer goes to
the same process, in file order, so each member's history is written in the order it happened
and no two processes wait for the same member's lock), and each process imports its share in
batches, exactly as `importer` does in one process, on its own connection. This process, which
only waits meanwhile, refreshes the statistics as the batches come in (`refresh_due`).

SQLite has one writer at a time, so there each batch is planned before its transaction takes
the write lock (`fastpath.Early`) and only the writing waits for the other processes. Its ids
come from the largest one under the lock, so this process sets aside a block of ids for every
batch of the window before forking (`_Blocks`); a batch whose block another writer took
meanwhile is planned again under the lock, with ids above every block.

The processes are forked, so they start with the modules already imported and need no
arguments sent over; the parent closes its connections first, so that no connection is shared
across a fork. One order id given to two customers in different processes is the one thing
they can collide on: the batch that loses the race is handed back and imported again at the
end, in this process, where the order id is found taken and the row skipped as it would have
been in one process.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from punchcard.db import Database, share_writer_lock
from punchcard.errors import PunchcardError
from punchcard.events import importer
from punchcard.events.batchstate import IdBlock, tops
from punchcard.events.importer import ImportReport
from punchcard.events.sources import OrderRow, Skip
from punchcard.rawsql import Raw

POLL_SECONDS = 0.5
# Rows held in memory at a time: the file is imported window after window (a customer's
# orders stay in file order across windows), so a history of millions of rows needs no more
# memory than one of 200,000 (about 60 MB of rows).
WINDOW = 200_000


class ImportWorkerError(PunchcardError):
    code = "import_failed"


def deal(rows: list[OrderRow], parts: int) -> list[list[OrderRow]]:
    """The rows dealt out among `parts` processes, every customer's orders to one of them, in
    file order. The customers with the most orders are dealt first, each to the part with the
    fewest orders so far (ties: the earlier customer, the lower part), so the parts come out
    within one customer's orders of each other and the processes finish together: dealt by a
    hash of the customer, the CDNOW file's two parts differed by 4% (35,503 and 34,076 orders)
    and the whole machine waited a fifth of a second for the larger. The same rows are always
    dealt the same way."""
    orders: dict[str, int] = {}
    for row in rows:  # a dict keeps the customers in the order they first appear
        orders[row.external_id] = orders.get(row.external_id, 0) + 1
    sizes = [0] * parts
    owner: dict[str, int] = {}
    for external_id, count in sorted(orders.items(), key=lambda item: -item[1]):  # stable
        part = min(range(parts), key=sizes.__getitem__)
        owner[external_id] = part
        sizes[part] += count
    dealt: list[list[OrderRow]] = [[] for _ in range(parts)]
    for row in rows:
        dealt[owner[row.external_id]].append(row)
    return dealt


@dataclass(frozen=True)
class _Job:
    """What every process of one import shares (a forked child inherits it as it is)."""

    db: Database
    program_id: int
    fmt: str
    now: datetime
    batch_size: int
    progress: Callable[[int], None] | None

    def advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress(n)

    def flush(
        self, batch: list[OrderRow], report: ImportReport, ids: IdBlock | None = None
    ) -> None:
        importer.flush(self.db, self.program_id, batch, self.fmt, self.now, report, ids)


@dataclass(frozen=True)
class _Blocks:
    """The ids set aside for one window on SQLite: `size` (the batch size) ids of each table
    per batch, the batches of process 0 first, then those of process 1, and so on, all above
    `bases` (each table's largest id when the window started)."""

    bases: tuple[int, int, int]
    size: int
    starts: tuple[int, ...]  # each process's first block
    total: int  # blocks in the window

    @classmethod
    def of(cls, db: Database, parts: list[list[OrderRow]], size: int) -> _Blocks:
        counts = [-(-len(part) // size) for part in parts]
        starts = tuple(sum(counts[:i]) for i in range(len(parts)))
        with db.reader() as session:
            bases = tops(Raw(session))
        return cls(bases, size, starts, sum(counts))

    def block(self, process: int, batch: int) -> IdBlock:
        index = self.starts[process] + batch
        firsts = [base + index * self.size + 1 for base in self.bases]
        ceilings = [base + self.total * self.size for base in self.bases]
        return IdBlock((firsts[0], firsts[1], firsts[2]), self.size,
                       (ceilings[0], ceilings[1], ceilings[2]))  # fmt: skip


def import_parallel(
    db: Database,
    *,
    program_id: int,
    rows: Iterable[OrderRow | Skip],
    fmt: str,
    now: datetime,
    batch_size: int,
    progress: Callable[[int], None] | None,
    workers: int,
) -> ImportReport:
    job = _Job(db, program_id, fmt, now, batch_size, progress)
    report = ImportReport()
    before = importer.members_of(db, program_id)
    held: list[OrderRow] = []
    for item in rows:
        report.orders_read += 1
        if isinstance(item, Skip):
            report.skip(item.reason, item.line_no, item.text)
            job.advance(1)
            continue
        held.append(item)
        if len(held) >= WINDOW:
            _window(job, deal(held, workers), report)
            held = []
    _window(job, deal(held, workers), report)
    report.members_created = importer.members_of(db, program_id) - before
    return report


def _window(job: _Job, parts: list[list[OrderRow]], report: ImportReport) -> None:
    """Import one window of the file: its parts in parallel, then what lost a race."""
    for batch in _run(job, [p for p in parts if p], report):
        job.flush(batch, report)
        job.advance(len(batch))


def _run(job: _Job, parts: list[list[OrderRow]], report: ImportReport) -> list[list[OrderRow]]:
    """Run one process per part; add up their reports; return the batches to import again."""
    if not parts:
        return []
    blocks = _Blocks.of(job.db, parts, job.batch_size) if job.db.is_sqlite else None
    job.db.engine.dispose()  # no pooled connection may be inherited by a child
    context = multiprocessing.get_context("fork")
    inbox: Any = context.Queue()
    writing = context.Lock()
    processes = [
        context.Process(target=_work, args=(index, job, part, inbox, blocks, writing), daemon=True)
        for index, part in enumerate(parts)
    ]
    for process in processes:
        process.start()
    failures: list[str] = []
    try:
        retries = _collect(job, processes, inbox, report, failures)
    finally:
        for process in processes:
            process.join(timeout=None if not failures else 5)
            if process.is_alive():
                process.kill()
    if failures:
        raise ImportWorkerError(
            "; ".join(failures) + " (what the other processes imported is kept: "
            "run the import again to finish it, it adds nothing twice)"
        )
    return retries


def refresh_due(flushed: int, processes: int) -> bool:
    """When the batches written by all the processes together reach the refresh points of one
    process's (`importer.refresh_due`) times the number of processes: once the tables have
    grown as much as one process alone would have grown them by its own points."""
    return flushed % processes == 0 and importer.refresh_due(flushed // processes)


def _collect(
    job: _Job, processes: list[Any], inbox: Any, report: ImportReport, failures: list[str]
) -> list[list[OrderRow]]:
    """The children's messages until each has finished (or died): progress goes to the
    caller's bar, reports are added up, failures noted; returns the batches handed back. The
    statistics are refreshed here as the batches are written (`refresh_due`)."""
    finished: set[int] = set()
    retries: list[list[OrderRow]] = []
    flushed = 0  # batches written, by all the processes
    while len(finished) < len(processes):
        try:
            index, kind, value = inbox.get(timeout=POLL_SECONDS)
        except queues.Empty:
            for index, process in enumerate(processes):
                if index not in finished and process.exitcode not in (None, 0):
                    finished.add(index)
                    failures.append(f"import process {index} died ({process.exitcode})")
            continue
        if kind == "progress":
            job.advance(value)
            flushed += 1
            if refresh_due(flushed, len(processes)):
                # Here, while the children go on writing: in a child it made that child the
                # last to finish, and with each child refreshing them, one ANALYZE of a table
                # waited for another's and then did the same work again.
                importer.refresh_statistics(job.db)
        elif kind == "retry":
            retries.append(value)
        elif kind == "done":
            report.absorb(value)
            finished.add(index)
        elif kind == "failed":
            failures.append(value)
            finished.add(index)
    return retries


def _work(
    index: int,
    job: _Job,
    part: list[OrderRow],
    outbox: Any,
    blocks: _Blocks | None,
    writing: Any,
) -> None:
    """One process's share, batch by batch, each batch its own transaction as in one process.
    `writing`: the lock the processes' SQLite writers share (`db.share_writer_lock`)."""
    try:
        if job.db.is_sqlite:
            share_writer_lock(job.db.engine, writing)
        report = ImportReport()
        size = job.batch_size
        for flushed, start in enumerate(range(0, len(part), size), start=1):
            batch = part[start : start + size]
            done = ImportReport()
            ids = blocks.block(index, flushed - 1) if blocks is not None else None
            try:
                job.flush(batch, done, ids)
            except IntegrityError:  # an order id another process took meanwhile
                outbox.put((index, "retry", batch))
                continue
            report.absorb(done)
            outbox.put((index, "progress", len(batch)))
        outbox.put((index, "done", report))
    except Exception as exc:  # reported to the parent, which names it in one line
        outbox.put((index, "failed", f"import process {index}: {type(exc).__name__}: {exc}"))
    finally:
        job.db.engine.dispose()
