"""The `punchcard` command, on a SQLite file and on a fresh PostgreSQL database.

The real console script costs about a second of imports per call, so the main paths run it as
a process (`run`) and the rest call the same typer app in process (`invoke`). Either way the
output goes to a pipe, as under cron, systemd or CI, with no terminal wider than the default
80 columns for messages to lean on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, update
from typer.testing import CliRunner

from punchcard import cli, migrate
from punchcard.db import open_database, session_scope
from punchcard.ledger import service as ledger
from punchcard.ledger import verify as ledger_verify
from punchcard.members import service as members
from punchcard.models import Balance
from punchcard.models.web import AdminUser
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy
from tests.conftest import scratch_pg_database

PUNCHCARD = Path(sys.executable).with_name("punchcard")
EARNED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nope"


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, timeout: float = 60, extra_env: dict[str, str] | None = None) -> Outcome:
    """The installed console script in a process of its own; stdin is /dev/null."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUNCHCARD_")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.update(extra_env or {})
    done = subprocess.run(
        [str(PUNCHCARD), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def invoke(*args: str) -> Outcome:
    """The same typer app in process; an exception that escapes it fails the test."""
    result = CliRunner(env={"COLUMNS": "80", "PUNCHCARD_DATABASE_URL": None}).invoke(
        cli.app, list(args)
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_one_error_line(result: Outcome) -> str:
    """A failed command explains itself in exactly one `error: ...` line, never a trace."""
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def sqlite_url(tmp_path: Path, name: str = "cli") -> str:
    return f"sqlite:///{tmp_path / f'{name}.db'}"


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A new, empty PostgreSQL database of the test's own."""
    with scratch_pg_database("punchcard_cli") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a database with nothing in it, not even a schema."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("fresh_pg")
    return url


@pytest.fixture
def url(empty_url: str) -> str:
    """The same database with the current schema, built in process (fast)."""
    handle = open_database(empty_url)
    try:
        migrate.upgrade(handle.engine)
    finally:
        handle.dispose()
    return empty_url


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    """A SQLite file with the schema, for tests that need not run on both backends."""
    url = sqlite_url(tmp_path, "one")
    handle = open_database(url)
    try:
        migrate.upgrade(handle.engine)
    finally:
        handle.dispose()
    return url


def add_program(url: str, name: str = "shop") -> int:
    handle = open_database(url)
    try:
        with session_scope(handle.writer) as session:
            return programs.create_program(
                session,
                name=name,
                now=EARNED,
                expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
                expiry_value=30,
            ).id
    finally:
        handle.dispose()


def add_member_with_points(url: str, program_id: int, points: int) -> int:
    handle = open_database(url)
    try:
        with session_scope(handle.writer) as session:
            member, _ = members.enrol(
                session, program_id=program_id, external_id=uuid.uuid4().hex, now=EARNED
            )
            program = programs.get_program(session, program_id)
            ledger.adjust(
                session, program=program, member_id=member.id, points=points, reason="x", now=EARNED
            )
        return member.id
    finally:
        handle.dispose()


def available_and_report(url: str, member_id: int) -> tuple[int, ledger_verify.Report]:
    handle = open_database(url)
    try:
        with handle.reader() as session:
            points = session.execute(
                select(Balance.available).where(Balance.member_id == member_id)
            ).scalar_one()
            return int(points), ledger_verify.verify(session)
    finally:
        handle.dispose()


# --- db upgrade --------------------------------------------------------------------------


def test_db_upgrade_builds_the_schema_and_can_run_again(empty_url: str) -> None:
    first = run("db", "upgrade", "--db", empty_url)
    second = run("db", "upgrade", "--db", empty_url)

    head = migrate.head_revision()
    assert head is not None
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert head in result.stdout
        assert "Traceback" not in result.stderr
    handle = open_database(empty_url)
    try:
        assert migrate.is_up_to_date(handle.engine)
    finally:
        handle.dispose()


def test_head_names_the_newest_migration() -> None:
    """Commands compare the database with `migrate.HEAD` rather than load every migration:
    a new migration must move it."""
    assert migrate.head_revision() == migrate.HEAD


def _one_migration_behind(url: str) -> None:
    handle = open_database(url)
    try:
        migrate.upgrade(handle.engine, "head")
        config = migrate.alembic_config()
        with handle.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "-1")
        assert not migrate.is_up_to_date(handle.engine)
    finally:
        handle.dispose()


def _revision(url: str) -> str | None:
    handle = open_database(url)
    try:
        return migrate.current_revision(handle.engine)
    finally:
        handle.dispose()


def test_a_command_brings_an_older_sqlite_schema_up_to_date(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "old")
    _one_migration_behind(url)
    assert run("program", "list", "--db", url).returncode == 0
    assert _revision(url) == migrate.HEAD


def test_a_command_refuses_an_older_postgres_schema(fresh_pg: str) -> None:
    _one_migration_behind(fresh_pg)
    result = run("program", "list", "--db", fresh_pg)
    assert result.returncode == 1
    assert "schema is out of date" in result.stderr
    assert _revision(fresh_pg) != migrate.HEAD


# --- programs and keys -------------------------------------------------------------------


def test_program_create_prints_the_program_and_its_admin_key(url: str) -> None:
    result = run("program", "create", "--name", "Corner Cafe", "--db", url)

    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert isinstance(created["program_id"], int)
    assert created["api_key"].startswith("pc_")
    assert len(created["api_key"]) > 20
    handle = open_database(url)
    try:
        with handle.reader() as session:
            listed = programs.list_programs(session)
            identity = programs.authenticate(session, created["api_key"])
    finally:
        handle.dispose()
    assert [(p.id, p.name) for p in listed] == [(created["program_id"], "Corner Cafe")]
    assert identity is not None
    assert identity.program_id == created["program_id"]
    assert {s.value for s in identity.scopes} == {"admin"}


def test_program_create_builds_a_sqlite_schema_itself(tmp_path: Path) -> None:
    result = run("program", "create", "--name", "Fresh", "--db", sqlite_url(tmp_path, "new"))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["api_key"].startswith("pc_")


def test_program_create_with_a_bad_setting_is_one_error_line(sqlite_db: str) -> None:
    result = invoke("program", "create", "--name", "X", "--currency", "usd", "--db", sqlite_db)

    assert result.returncode != 0
    assert result.stdout == ""
    line = assert_one_error_line(result)
    assert "currency" in line


def test_key_create_picks_the_only_program(url: str) -> None:
    program_id = add_program(url)

    result = invoke("key", "create", "--scopes", "pos", "--db", url)

    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["program_id"] == program_id
    assert created["api_key"].startswith("pc_")
    handle = open_database(url)
    try:
        with handle.reader() as session:
            identity = programs.authenticate(session, created["api_key"])
    finally:
        handle.dispose()
    assert identity is not None
    assert identity.key_id == created["key_id"]
    assert identity.program_id == program_id
    assert {s.value for s in identity.scopes} == {"pos"}


def test_key_create_with_two_programs_needs_the_program_option(url: str) -> None:
    add_program(url, "one")
    second = add_program(url, "two")

    ambiguous = invoke("key", "create", "--scopes", "pos", "--db", url)
    named = invoke(
        "key", "create", "--scopes", "pos,analyst", "--program", str(second), "--db", url
    )

    assert ambiguous.returncode != 0
    assert ambiguous.stdout == ""
    assert "--program" in ambiguous.stderr
    assert_one_error_line(ambiguous)
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["program_id"] == second


def test_key_create_with_an_unknown_scope_is_exit_2(sqlite_db: str) -> None:
    add_program(sqlite_db)

    result = invoke("key", "create", "--scopes", "pos,superuser", "--db", sqlite_db)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "superuser" in assert_one_error_line(result)


def test_key_create_for_an_unknown_program_fails(sqlite_db: str) -> None:
    add_program(sqlite_db)

    result = invoke("key", "create", "--scopes", "pos", "--program", "987654", "--db", sqlite_db)

    assert result.returncode != 0
    assert result.stdout == ""
    assert "program_not_found" in assert_one_error_line(result)


# --- ledger verify and jobs --------------------------------------------------------------


def test_ledger_verify_reports_ok(url: str) -> None:
    program_id = add_program(url)
    add_member_with_points(url, program_id, 100)

    result = invoke("ledger", "verify", "--db", url)

    assert result.returncode == 0, result.stderr
    assert "ledger ok: 1 transactions, 1 member balances" in result.stdout


def test_ledger_verify_fails_on_a_tampered_balance(url: str) -> None:
    program_id = add_program(url)
    member_id = add_member_with_points(url, program_id, 100)
    handle = open_database(url)
    try:
        with session_scope(handle.writer) as session:
            session.execute(
                update(Balance).where(Balance.member_id == member_id).values(available=99)
            )
    finally:
        handle.dispose()

    result = invoke("ledger", "verify", "--db", url)

    assert result.returncode == 1
    assert "ledger ok" not in result.stdout
    assert "violation" in result.stdout
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_jobs_run_expires_points_as_of_now(url: str) -> None:
    program_id = add_program(url)
    member_id = add_member_with_points(url, program_id, 40)

    result = run("jobs", "run", "--now", "2027-01-01T00:00:00Z", "--db", url)

    assert result.returncode == 0, result.stderr
    assert "expired lots of 1" in result.stdout
    points, report = available_and_report(url, member_id)
    assert points == 0
    assert report.ok, report.violations
    assert report.transactions == 2


def test_jobs_run_before_the_expiry_date_changes_nothing(sqlite_db: str) -> None:
    member_id = add_member_with_points(sqlite_db, add_program(sqlite_db), 40)

    result = invoke("jobs", "run", "--now", "2026-01-20T00:00:00+00:00", "--db", sqlite_db)

    assert result.returncode == 0, result.stderr
    assert "expired lots of 0" in result.stdout
    assert available_and_report(sqlite_db, member_id)[0] == 40


@pytest.mark.parametrize("now", ["garbage", "2027-13-45"])
def test_jobs_run_with_a_bad_now_is_exit_2_and_one_line(tmp_path: Path, now: str) -> None:
    result = (run if now == "garbage" else invoke)(
        "jobs", "run", "--now", now, "--db", sqlite_url(tmp_path)
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert "--now" in result.stderr
    line = assert_one_error_line(result)
    assert now in line


# --- serve and bad URLs ------------------------------------------------------------------


def test_serve_refuses_an_empty_postgresql_database(fresh_pg: str) -> None:
    result = run("serve", "--db", fresh_pg, "--port", "1", timeout=30)

    assert result.returncode != 0
    assert "punchcard db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


def test_serve_refusal_is_one_line(fresh_pg: str) -> None:
    result = run("serve", "--db", fresh_pg, "--port", "1", timeout=30)

    assert result.returncode != 0
    assert fresh_pg in assert_one_error_line(result)


def test_an_invalid_url_is_one_error_line() -> None:
    result = run("ledger", "verify", "--db", "not a url")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not a url" in result.stderr
    assert_one_error_line(result)


@pytest.mark.parametrize("bad_url", ["nope://x", "postgresql+nodriver://h/db", "sqlite:/x"])
def test_other_invalid_urls_are_one_error_line(bad_url: str) -> None:
    result = invoke("ledger", "verify", "--db", bad_url)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert bad_url in result.stderr
    assert_one_error_line(result)


def test_db_upgrade_with_an_invalid_url_is_one_error_line() -> None:
    result = invoke("db", "upgrade", "--db", "not a url")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not a url" in assert_one_error_line(result)


def test_an_unreachable_database_is_one_error_line() -> None:
    result = invoke("ledger", "verify", "--db", UNREACHABLE)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database error" in result.stderr
    assert_one_error_line(result)


def test_a_bad_setting_in_the_environment_is_exit_2_naming_the_variable(sqlite_db: str) -> None:
    env = {"PUNCHCARD_PORT": "http", "PUNCHCARD_DATABASE_URL": sqlite_db}

    result = run("ledger", "verify", extra_env=env)

    assert result.returncode == 2
    assert "PUNCHCARD_PORT" in assert_one_error_line(result)


def test_a_bad_setting_in_the_environment_is_named_even_with_db_given(sqlite_db: str) -> None:
    result = run("ledger", "verify", "--db", sqlite_db, extra_env={"PUNCHCARD_PORT": "http"})

    assert result.returncode != 0
    line = assert_one_error_line(result)
    assert "PUNCHCARD_PORT" in line
    assert "cannot open database" not in line


# --- punchcard admin create-user --------------------------------------------------------------


def test_admin_create_user_and_its_refusals(url: str) -> None:
    """Created with a password from stdin (hashed with argon2id, signs in); a second user with
    the same e-mail in any case, and a short password, each exit 1 with one line."""
    from punchcard.web.admin import users

    made = CliRunner(env={"PUNCHCARD_DATABASE_URL": None}).invoke(
        cli.app,
        ["admin", "create-user", "--db", url, "--email", "Ops@Example.com", "--name", "Ops",
         "--password-stdin"],
        input="a long enough password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["email"] == "ops@example.com"
    handle = open_database(url)
    try:
        with session_scope(handle.writer) as session:
            signed = users.authenticate(
                session, email="ops@example.com", password="a long enough password", now=EARNED
            )
            assert signed.outcome is users.Outcome.SIGNED_IN
            stored = session.execute(select(AdminUser.password_hash)).scalar_one()
            assert stored.startswith("$argon2id$")
    finally:
        handle.dispose()

    again = CliRunner(env={"PUNCHCARD_DATABASE_URL": None}).invoke(
        cli.app,
        ["admin", "create-user", "--db", url, "--email", "OPS@example.com", "--password-stdin"],
        input="another long password\n",
    )
    assert again.exit_code == 1
    assert "already exists" in assert_one_error_line(Outcome(1, again.stdout, again.stderr))

    short = CliRunner(env={"PUNCHCARD_DATABASE_URL": None}).invoke(
        cli.app,
        ["admin", "create-user", "--db", url, "--email", "new@example.com", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1
    assert "at least 10" in assert_one_error_line(Outcome(1, short.stdout, short.stderr))


def test_admin_create_user_asks_for_the_password_twice(sqlite_db: str) -> None:
    """Without --password-stdin the password is asked for twice (hidden); a mismatch asks
    again, and matching entries create the user."""
    result = CliRunner(env={"PUNCHCARD_DATABASE_URL": None}).invoke(
        cli.app,
        ["admin", "create-user", "--db", sqlite_db, "--email", "a@example.com"],
        input="first password 1\nsecond password\nfinal password 1\nfinal password 1\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "final password 1" not in result.output  # hidden
    assert json.loads(result.stdout.strip().splitlines()[-1])["admin_user_id"] >= 1
