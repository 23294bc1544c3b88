"""SQLite's writers, in this process and in others, queue on a lock file beside the database
(`db._WriterLock`), give it up only once their commit is done, and keep the write-ahead log
from growing without end while other processes read (`db._backfill`)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from punchcard import db as dbmodule
from punchcard.db import Database, open_database, statements


def _file_db(tmp_path: Path) -> Database:
    handle = open_database(f"sqlite:///{tmp_path / 'lock.db'}")
    with handle.writer() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)"))
        session.commit()
    return handle


def _held_elsewhere(path: str) -> bool:
    """Whether another process than this one holds the lock file (a probe from a child)."""

    def probe(answer: Any) -> None:
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            answer.put(True)
        else:
            answer.put(False)
        finally:
            os.close(fd)

    context = multiprocessing.get_context("fork")
    answer: Any = context.Queue()
    child = context.Process(target=probe, args=(answer,))
    child.start()
    child.join(30)
    return bool(answer.get(timeout=5))


def test_a_write_transaction_holds_the_lock_file_until_it_ends(tmp_path: Path) -> None:
    handle = _file_db(tmp_path)
    lock = str(tmp_path / "lock.db") + "-writer"
    with handle.writer() as session:
        session.execute(text("INSERT INTO t (v) VALUES (1)"))
        assert _held_elsewhere(lock)
        session.commit()
    assert not _held_elsewhere(lock)
    with handle.writer() as session:
        session.execute(text("INSERT INTO t (v) VALUES (2)"))
        session.rollback()
    assert not _held_elsewhere(lock)
    # a writer's connection made from a reader's engine (`Raw.beside`) is a writer's
    with handle.engine.execution_options(**{dbmodule.READ_ONLY: False}).begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES (3)"))
        assert _held_elsewhere(lock)
    assert not _held_elsewhere(lock)
    with handle.reader() as session:  # readers take no lock
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert not _held_elsewhere(lock)
    handle.dispose()


def test_the_lock_is_given_up_only_once_the_commit_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLAlchemy announces a commit before making it; a writer let in at that moment would
    find the database still locked and meet SQLite's busy handler."""
    handle = _file_db(tmp_path)
    lock = dbmodule._WRITER_LOCKS[handle.engine]
    seen: list[int] = []
    release = lock.release

    def looking(*args: Any) -> None:
        with sqlite3.connect(tmp_path / "lock.db") as other:
            seen.append(other.execute("SELECT count(*) FROM t").fetchone()[0])
        release(*args)

    monkeypatch.setattr(lock, "release", looking)
    with handle.writer() as session:
        session.execute(text("INSERT INTO t (v) VALUES (1)"))
        session.commit()
    assert seen == [1]  # committed, as another connection sees it, when the lock is let go
    handle.dispose()


def test_a_forked_child_locks_with_a_descriptor_of_its_own(tmp_path: Path) -> None:
    """A descriptor inherited across a fork shares its lock with the parent: the child must
    not think it holds the lock while the parent does."""
    handle = _file_db(tmp_path)
    with handle.writer() as session:  # the parent's descriptor is open
        session.execute(text("INSERT INTO t (v) VALUES (1)"))
        session.commit()
    lock = dbmodule._WRITER_LOCKS[handle.engine]
    assert lock.acquire(5)
    try:

        def child(answer: Any) -> None:
            lock.lock = threading.Lock()  # this process's threads: none of them holds it
            answer.put(lock.acquire(0.3))  # waits on the parent's hold, then gives up

        context = multiprocessing.get_context("fork")
        answer: Any = context.Queue()
        process = context.Process(target=child, args=(answer,))
        process.start()
        process.join(30)
        assert answer.get(timeout=5) is False
    finally:
        lock.release()
    handle.dispose()


def test_the_log_is_started_over_after_readers_held_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a reader holds an old snapshot the log can only grow; once it has gone, the next
    writer checkpoints before it begins and SQLite starts the log over, cut to the limit."""
    monkeypatch.setattr(dbmodule, "WAL_LIMIT", 256 * 1024)
    monkeypatch.setattr(dbmodule, "WAL_RETRY_SECONDS", 0)
    handle = _file_db(tmp_path)
    wal = tmp_path / "lock.db-wal"
    reader = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot, held
    for _ in range(40):
        with handle.writer() as session:
            session.execute(text("INSERT INTO t (v) VALUES (randomblob(16000))"))
            session.commit()
    grown = wal.stat().st_size
    assert grown > dbmodule.WAL_LIMIT
    reader.execute("COMMIT")
    reader.close()
    for _ in range(2):  # the first checkpoints and begins again at the start of the log
        with handle.writer() as session:
            session.execute(text("INSERT INTO t (v) VALUES (randomblob(16000))"))
            session.commit()
    assert wal.stat().st_size <= dbmodule.WAL_LIMIT
    handle.dispose()


def test_statements_each_see_the_latest_commit(tmp_path: Path) -> None:
    """`statements` reads without a snapshot held between its statements."""
    handle = _file_db(tmp_path)
    with statements(handle) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        with handle.writer() as writer:
            writer.execute(text("INSERT INTO t (v) VALUES (1)"))
            writer.commit()
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    with handle.reader() as session:  # a reader's snapshot, for contrast
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        with handle.writer() as writer:
            writer.execute(text("INSERT INTO t (v) VALUES (2)"))
            writer.commit()
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    handle.dispose()


def test_the_log_is_checkpointed_after_the_lock_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint copies the commit's pages into the database file and syncs it: the next
    writer need not wait for that. SQLite's own checkpoint at commit is off; the writer
    checkpoints once it has let the lock go, every `CHECKPOINT_ROWS` rows."""
    monkeypatch.setattr(dbmodule, "CHECKPOINT_ROWS", 3)
    handle = _file_db(tmp_path)
    said: list[str] = []
    event.listen(handle.engine, "connect", lambda conn, _: conn.set_trace_callback(said.append))
    handle.engine.dispose()  # connect again, with the trace
    lock = dbmodule._WRITER_LOCKS[handle.engine]
    release = lock.release

    def telling() -> None:
        said.append("lock given up")
        release()

    monkeypatch.setattr(lock, "release", telling)
    for rows in (1, 1, 2):  # three rows are reached in the third transaction, not before
        with handle.writer() as session:
            for _ in range(rows):
                session.execute(text("INSERT INTO t (v) VALUES (1)"))
            session.commit()
    steps = [s for s in said if s in ("COMMIT", "lock given up") or "wal_checkpoint" in s]
    assert steps == ["COMMIT", "lock given up"] * 3 + ["PRAGMA wal_checkpoint(PASSIVE)"]
    with handle.engine.connect() as conn:  # SQLite's own checkpoint at commit is off
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
    handle.dispose()


def test_a_long_reader_holds_the_writers_up_once_not_at_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer that finds the log long waits `WAL_WAIT_MS` for the readers on it; while
    one of them stays (a long report), the writers after it do not wait again until
    `WAL_RETRY_SECONDS` have passed."""
    monkeypatch.setattr(dbmodule, "WAL_LIMIT", 64 * 1024)
    monkeypatch.setattr(dbmodule, "WAL_RETRY_SECONDS", 3600)
    handle = _file_db(tmp_path)
    said: list[str] = []
    event.listen(handle.engine, "connect", lambda conn, _: conn.set_trace_callback(said.append))
    handle.engine.dispose()
    reader = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    for _ in range(20):
        with handle.writer() as session:
            session.execute(text("INSERT INTO t (v) VALUES (randomblob(16000))"))
            session.commit()
    assert (tmp_path / "lock.db-wal").stat().st_size > dbmodule.WAL_LIMIT
    assert sum("wal_checkpoint(RESTART)" in s for s in said) == 1
    reader.execute("COMMIT")
    reader.close()
    handle.dispose()
