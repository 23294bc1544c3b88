"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE` for write transactions, so
two writers queue on the database lock instead of failing half-way with "database is locked".
Read-only sessions start a deferred transaction so that readers never wait for writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
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
# READ_ONLY's value for reads each in a transaction of its own on SQLite (`statements`).
STATEMENTS = "statements"
_HOLDS_LOCK = "punchcard_holds_writer_lock"
_CHANGES = "punchcard_changes_at_begin"
# Rows a process writes between two checkpoints of SQLite's log (`_commit`).
CHECKPOINT_ROWS = 4000


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


class WriterBusyError(TimeoutError):
    """SQLite's write lock (or a process's turn to write a batch, `events.idslots`) was not
    had within the busy timeout: the API answers 503 `database_unavailable`, nothing written."""


class _WriterLock:
    """What a SQLite engine's writers take before `BEGIN IMMEDIATE`: a lock of this process's
    threads (or one shared by processes forked together, `share_writer_lock`), then, for a
    database in a file, an advisory lock on a file beside it (`<database>-writer`), which the
    other processes writing to it (more server workers, the CLI, the worker) take too. Waiting
    on it costs at most `POLL_MAX` after it is freed, where SQLite's own busy handler sleeps
    up to 100 ms between tries and turns contention between processes into tail latency."""

    POLL_MAX = 0.002

    def __init__(self, path: str | None, timeout: float) -> None:
        self.lock: Any = threading.Lock()
        self.path = path
        self.timeout = timeout  # seconds: the engine's busy timeout
        self.turn = threading.Lock()  # this process's large batch in flight (`batch_turn`)
        self._fd: int | None = None
        self._pid = 0
        self.written = 0  # rows written since this process last checkpointed
        self.backfill_after = 0.0  # when `_backfill` may try again (`time.monotonic`)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            if self._lock_file(deadline):
                return True
        except BaseException:
            self.lock.release()
            raise
        self.lock.release()
        return False

    def release(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.lock.release()

    def _lock_file(self, deadline: float) -> bool:
        fd = self._file()
        if fd is None:
            return True
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, self.POLL_MAX)

    def _file(self) -> int | None:
        """This process's descriptor of the lock file: a forked child opens its own, since a
        descriptor it inherited shares its lock with the parent and its siblings."""
        if self.path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:  # a read-only folder: SQLite's busy handler is left to do it
                self.path = None
                return None
            self._pid = os.getpid()
        return self._fd


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()


def share_writer_lock(engine: Engine, lock: Any) -> None:
    """Processes forked from one parent (the import's, `events.importworkers`) wait for each
    other's SQLite writes on `lock` (a `multiprocessing.Lock` made before the fork), which
    wakes the next one as soon as it is free, where the lock file, taken after it, is polled:
    a tenth of a two-process import once went into the busy handler's sleeps."""
    _WRITER_LOCKS[engine].lock = lock


@contextmanager
def batch_turn(engine: Engine) -> Iterator[None]:
    """This process's turn to write a large batch to this SQLite database (`events.idslots`
    says why there is one), waited for up to the busy timeout (`WriterBusyError`)."""
    writer = _WRITER_LOCKS[engine]
    if not writer.turn.acquire(timeout=writer.timeout):
        raise WriterBusyError("timed out waiting for this process's batch in flight to commit")
    try:
        yield
    finally:
        writer.turn.release()


def lock_path(engine: Engine) -> str | None:
    """The lock file of a database in a file; None for one in memory."""
    database = engine.url.database
    if not database or database == ":memory:" or "mode=memory" in str(engine.url):
        return None
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return database + "-writer"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # SQLite has one writer at a time. Writers queue on a lock instead of on SQLite's busy
    # handler, whose sleep-and-retry backoff turns contention into seconds of tail latency.
    writer = _WRITER_LOCKS[engine] = _WriterLock(lock_path(engine), busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # `_commit` checkpoints, after the lock
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if reading := conn.get_execution_options().get(READ_ONLY):  # False: a writer's
            if reading != STATEMENTS:
                conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(writer.timeout):
            raise WriterBusyError("timed out waiting for the SQLite write lock")
        conn.info[_HOLDS_LOCK] = True
        try:
            driver = conn.connection.driver_connection
            _backfill(driver, writer)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info[_CHANGES] = driver.total_changes
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop(_HOLDS_LOCK, False):
            writer.release()

    def _commit(conn: Any) -> None:
        # SQLAlchemy tells of a commit before it commits: the COMMIT goes out here, so that the
        # lock is given up once it is done, not while the next writer would meet SQLite's busy
        # handler (the driver's own commit is then a no-op, no transaction being open).
        if not conn.info.get(_HOLDS_LOCK):
            return
        driver = conn.connection.driver_connection
        try:
            driver.execute("COMMIT")
        finally:
            _release(conn)
        writer.written += driver.total_changes - conn.info.pop(_CHANGES, driver.total_changes)
        if writer.written >= CHECKPOINT_ROWS and _wal_size(writer.path) <= WAL_LIMIT:
            writer.written = 0
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _release)


# The write-ahead log's size past which a writer checkpoints before it begins (`_backfill`),
# and to which SQLite cuts the file when it starts the log over.
WAL_LIMIT = 64 * 1024 * 1024
WAL_WAIT_MS = 50
WAL_RETRY_SECONDS = 1.0


def _wal_size(lock_file: str | None) -> int:
    if lock_file is None:
        return 0
    try:
        return os.stat(lock_file.removesuffix("-writer") + "-wal").st_size
    except OSError:
        return 0


def _backfill(driver: Any, writer: _WriterLock) -> None:
    """SQLite starts its log over when a writer begins after a checkpoint that copied every
    page back, and no reader is left on the log. With batches read by several processes at
    once (`events.idslots`) some reader was nearly always on the log when a checkpoint ran,
    and the log grew to gigabytes, every read searching it. A writer that finds the log over
    `WAL_LIMIT` checkpoints it whole before it begins, holding the lock so that no commit
    comes between, and waits up to `WAL_WAIT_MS` for the readers on it to finish (the early
    reads are short, `statements`). A long report reading meanwhile makes it give up; the
    next try is `WAL_RETRY_SECONDS` later, so that writers are not held up all the while."""
    if _wal_size(writer.path) <= WAL_LIMIT or time.monotonic() < writer.backfill_after:
        return
    timeout = driver.execute("PRAGMA busy_timeout").fetchone()[0]
    driver.execute(f"PRAGMA busy_timeout={WAL_WAIT_MS}")
    try:
        busy = driver.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(timeout)}")
    if busy:
        writer.backfill_after = time.monotonic() + WAL_RETRY_SECONDS


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


def statements(db: Database) -> Session:
    """A read-only session whose statements on SQLite each read the latest commit, in a
    transaction of their own: a reader in one long transaction keeps SQLite from starting its
    write-ahead log over, and with batches read this way in several processes at once (the
    early plans of `events.idslots`) the log grew to gigabytes, each read searching it."""
    return db.reader(bind=db.engine.execution_options(**{READ_ONLY: STATEMENTS}))


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
