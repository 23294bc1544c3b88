"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE` for write transactions, so
two writers queue on the database lock instead of failing half-way with "database is locked".
Read-only sessions start a deferred transaction so that readers never wait for writers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from punchcard.caches import Caches
from punchcard.config import Settings

READ_ONLY = "punchcard_read_only"
_HOLDS_LOCK = "punchcard_holds_writer_lock"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 30_000) -> Engine:
    if is_sqlite(url):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # No pool_pre_ping: it costs a round trip per checkout. After a database restart the first
    # statement on a dead connection fails (a 503), SQLAlchemy drops the whole pool, and the
    # next request connects afresh.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2)


class _WriterLock:
    """What a SQLite engine's writers take before `BEGIN IMMEDIATE`: a lock of this process's
    threads, or one shared by processes forked together (`share_writer_lock`)."""

    def __init__(self) -> None:
        self.lock: Any = threading.Lock()


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()


def share_writer_lock(engine: Engine, lock: Any) -> None:
    """Processes forked from one parent (the import's, `events.importworkers`) wait for each
    other's SQLite writes on `lock` (a `multiprocessing.Lock` made before the fork), woken as
    soon as it is free, instead of on SQLite's busy handler, which sleeps up to 100 ms between
    tries: a tenth of a two-process import went into those sleeps."""
    _WRITER_LOCKS[engine].lock = lock


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # SQLite has one writer at a time. Threads of this process queue on a lock instead of on
    # SQLite's busy handler, whose sleep-and-retry backoff turns contention into seconds of
    # tail latency; other processes still meet the busy timeout.
    writer = _WRITER_LOCKS[engine] = _WriterLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.lock.acquire(timeout=busy_timeout_ms / 1000):
            raise TimeoutError("timed out waiting for the SQLite write lock")
        conn.info[_HOLDS_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop(_HOLDS_LOCK, False):
            writer.lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


@dataclass(frozen=True)
class Database:
    """One engine and its two session factories; created once per process."""

    url: str
    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    caches: Caches = field(default_factory=Caches)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, settings: Settings | None = None) -> Database:
    settings = settings or Settings(database_url=url)
    engine = make_engine(
        url, pool_size=settings.db_pool_size, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    writer = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    reader = sessionmaker(
        bind=engine.execution_options(**{READ_ONLY: True}),
        expire_on_commit=False,
        autoflush=False,
    )
    return Database(
        url=url,
        engine=engine,
        writer=writer,
        reader=reader,
        caches=Caches(settings.cache_ttl_seconds),
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The CLI's and the worker's unit of work: commit once at the end, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rowcount(result: Result[Any]) -> int:
    """Rows a DML statement touched; guarded updates read it to know whether they won."""
    return int(cast(CursorResult[Any], result).rowcount)


def insert_or_skip(session: Session, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT (DO NOTHING / DO UPDATE), in the session's dialect:
    the one statement that makes racing writers of the same key end with one row."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)
