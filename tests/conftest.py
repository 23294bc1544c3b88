"""Every database test runs on SQLite and on the real PostgreSQL server.

Each backend gets one database per test process (pytest-xdist worker), built by running the
migrations. Tests isolate themselves by creating their own program: tenancy is the product's
own isolation boundary, and it lets concurrency tests commit for real. Tests that corrupt data
on purpose use `fresh_db`, a database of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from punchcard import migrate
from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, open_database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope

PG_ADMIN_URL = os.environ.get(
    "PUNCHCARD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_pg_database(name: str) -> str:
    """A new empty PostgreSQL database; fails loudly (never skips) when the server is down."""
    try:
        with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite and is not reachable: {exc}")
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(name: str) -> None:
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database of the caller's own, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        drop_pg_database(name)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def make_database_url(backend: str, tmp: Path, label: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'{label}.db'}"
    return create_pg_database(f"punchcard_test_{label}_{_worker()}_{os.getpid()}")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = make_database_url(backend, tmp_path_factory.mktemp("db"), "shared")
    handle = open_database(url, Settings(database_url=url, db_pool_size=40))
    migrate.upgrade(handle.engine)
    yield handle
    handle.dispose()
    if backend == "postgresql":
        drop_pg_database(make_url(url).database or "")


@contextmanager
def own_database(backend: str, tmp: Path, label: str) -> Iterator[Database]:
    """A new database without any schema, dropped (PostgreSQL) when the block ends."""
    url = make_database_url(backend, tmp, f"{label}_{uuid.uuid4().hex[:8]}")
    handle = open_database(url)
    try:
        yield handle
    finally:
        handle.dispose()
        if backend == "postgresql":
            drop_pg_database(make_url(url).database or "")


@pytest.fixture
def fresh_db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database of the test's own, for tests that tamper with rows or count everything."""
    with own_database(backend, tmp_path, "fresh") as handle:
        migrate.upgrade(handle.engine)
        yield handle


@pytest.fixture
def unmigrated_db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database of the test's own with no schema yet: for tests of a migration."""
    with own_database(backend, tmp_path, "migrations") as handle:
        yield handle


def downgrade(db: Database, revision: str) -> None:
    migrate.downgrade(db.engine, revision)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


ProgramFactory = Callable[..., ProgramSettings]


@pytest.fixture
def make_program(db: Database, clock: FixedClock) -> ProgramFactory:
    def make(**settings: object) -> ProgramSettings:
        with session_scope(db.writer) as session:
            return programs.create_program(
                session,
                name=f"test {uuid.uuid4().hex[:6]}",
                now=clock(),
                **settings,  # type: ignore[arg-type]
            )

    return make


@pytest.fixture
def program(make_program: ProgramFactory) -> ProgramSettings:
    return make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=365)


class Api:
    """A test client bound to one program, with a key per scope."""

    def __init__(
        self, client: TestClient, db: Database, program: ProgramSettings, now: datetime
    ) -> None:
        self.client = client
        self.program = program
        self.keys: dict[Scope, str] = {}
        with session_scope(db.writer) as session:
            for scope in Scope:
                key = programs.create_api_key(
                    session, program_id=program.id, scopes=(scope,), now=now
                )
                self.keys[scope] = key.api_key

    def headers(self, scope: Scope = Scope.ADMIN, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}", **extra}


@pytest.fixture
def client(db: Database, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db.url), db=db, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, db: Database, program: ProgramSettings, clock: FixedClock) -> Api:
    return Api(client, db, program, clock())
