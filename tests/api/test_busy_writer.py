"""A SQLite write that cannot have its turn within the busy timeout (the write lock held by
another process, or this process's large batch in flight, `events.idslots`) is answered
503 `database_unavailable` with `Retry-After`, nothing of it written; not a 500."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from punchcard import migrate
from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, lock_path, open_database, session_scope
from punchcard.events import fastpath, idslots
from punchcard.kit.clock import FixedClock
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope
from tests.conftest import START
from tests.events.test_batch_races import _order
from tests.events.test_events_api import uid


@pytest.fixture
def busy_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    handle = open_database(url, Settings(database_url=url, sqlite_busy_timeout_ms=200))
    migrate.upgrade(handle.engine)
    yield handle
    handle.dispose()


@pytest.fixture
def post(busy_db: Database) -> Iterator[Post]:
    """POST as an admin of a new program, in an app on `busy_db`."""
    with session_scope(busy_db.writer) as session:
        program = programs.create_program(session, name="busy", now=START)
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=START
        ).api_key
    app = create_app(Settings(database_url=busy_db.url), db=busy_db, clock=FixedClock(START))
    with TestClient(app) as client:

        def send(path: str, body: object) -> tuple[int, dict[str, Any], str | None]:
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
            return response.status_code, response.json(), response.headers.get("Retry-After")

        yield send


Post = Callable[[str, object], tuple[int, dict[str, Any], str | None]]


def _events(db: Database) -> int:
    with db.reader() as session:
        return int(session.execute(text("SELECT count(*) FROM events")).scalar_one())


def test_a_write_lock_held_elsewhere_past_the_busy_timeout_is_a_503(
    busy_db: Database, post: Post
) -> None:
    path = lock_path(busy_db.engine)
    assert path is not None
    fd = os.open(path, os.O_RDWR | os.O_CREAT)  # a description of its own: another writer
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        status, body, retry = post("/v1/events", _order(uid("busy"), "10.00"))
    finally:
        os.close(fd)
    assert status == 503, body
    assert body["error"]["code"] == "database_unavailable"
    assert retry == "5"
    assert _events(busy_db) == 0


def test_a_batch_whose_turn_does_not_come_is_a_503(busy_db: Database, post: Post) -> None:
    held, done = threading.Event(), threading.Event()

    def hold() -> None:  # another large batch of this process, in flight
        with idslots.claimed(busy_db):
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        events = [_order(uid("busy"), "10.00") for _ in range(fastpath.OPTIMISTIC_FROM)]
        status, body, retry = post("/v1/events/batch", {"events": events})
    finally:
        done.set()
        holder.join(10)
    assert status == 503, body
    assert body["error"]["code"] == "database_unavailable"
    assert retry == "5"
    assert _events(busy_db) == 0
