"""Running one KPI read beside the others, on a second connection that shares the summary's
snapshot (PostgreSQL's exported snapshots, as `pg_dump --jobs` uses them).

The points rollup is summed by PostgreSQL while this process computes the snapshot figures
in numpy: on two cores that overlap takes the points' share (a quarter to a third of a
whole-history summary) off the answer time. The second transaction imports the first's
snapshot, so both see exactly the same rows and bounds (sql.tune); the first stays open until
the second is done (`wait`). SQLite has no such thing and runs the read in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.sql import is_sqlite, tune

T = TypeVar("T")
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kpis-beside")


def start(session: Session, read: Callable[[Session], T]) -> Future[T]:
    """`read` on a connection of its own in `session`'s snapshot (which `tune` set up), or in
    `session` itself on SQLite. The caller must take the result before `session` ends."""
    if is_sqlite(session):
        done: Future[T] = Future()
        done.set_result(read(session))
        return done
    exported = str(session.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    if not _SNAPSHOT_ID.fullmatch(exported):  # SET takes no parameters: checked, then inlined
        raise ValueError(f"unexpected snapshot id {exported!r}")
    bind = session.get_bind()

    def run() -> T:
        with Session(bind=bind) as other:
            other.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            other.execute(text(f"SET TRANSACTION SNAPSHOT '{exported}'"))
            tune(other, isolation=False)
            return read(other)

    return _POOL.submit(run)
