"""The application, its command groups, and what every command shares: the options, one-line
failures, opening the database and choosing the program."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from punchcard import migrate
from punchcard.config import DEFAULT_DATABASE_URL, Settings
from punchcard.db import Database, is_sqlite, open_database
from punchcard.errors import PunchcardError
from punchcard.kit.clock import as_utc, utcnow
from punchcard.programs import service as programs

app = typer.Typer(
    help="Punchcard: a self-hosted loyalty engine. Run without a command to serve the API.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
program_app = typer.Typer(help="Programs (one per merchant).", no_args_is_help=True)
key_app = typer.Typer(help="API keys of a program.", no_args_is_help=True)
ledger_app = typer.Typer(help="The points ledger.", no_args_is_help=True)
jobs_app = typer.Typer(help="Periodic jobs (expiry, pending release).", no_args_is_help=True)
import_app = typer.Typer(help="Bulk import of history.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(program_app, name="program")
app.add_typer(key_app, name="key")
app.add_typer(ledger_app, name="ledger")
app.add_typer(jobs_app, name="jobs")
app.add_typer(import_app, name="import")
tiers_app = typer.Typer(help="Member tiers.", no_args_is_help=True)
app.add_typer(tiers_app, name="tiers")
analytics_app = typer.Typer(
    help="Program analytics and customer-base prediction.", no_args_is_help=True
)
app.add_typer(analytics_app, name="analytics")
admin_app = typer.Typer(help="Users of the admin console (/admin).", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

err = Console(stderr=True)
out = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help=f"Database URL (env PUNCHCARD_DATABASE_URL; default {DEFAULT_DATABASE_URL})"
    ),
]
ProgramOption = Annotated[
    int | None, typer.Option("--program", help="Program id; optional when there is only one.")
]
ScopeOption = Annotated[
    int | None, typer.Option("--program", help="Only this program (default: all programs).")
]


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, never wrapped, then exit: scripts read the first line."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(code)


def database_url(db: str | None) -> str:
    return db or Settings().database_url


@contextmanager
def database(db: str | None, *, upgrade: bool = False) -> Iterator[Database]:
    """Open the database for one command, with every expected failure as one line. SQLite is
    brought to the current schema (or any database, with `upgrade`); an out-of-date
    PostgreSQL schema is refused."""
    url = database_url(db)
    try:
        handle = open_database(url)
    except ValidationError:  # a bad PUNCHCARD_* variable: main() names it
        raise
    except Exception as exc:  # a malformed URL or a missing driver
        fail(f"cannot open database {url!r}: {exc}")
    try:
        if upgrade:
            migrate.upgrade(handle.engine)
        elif is_sqlite(url):
            migrate.ensure_current(handle.engine)
        elif not migrate.is_up_to_date(handle.engine):
            fail(f"the database schema is out of date: run `punchcard db upgrade --db {url}` first")
        yield handle
    except PunchcardError as exc:
        fail(f"{exc.code}: {exc.message}")
    except OperationalError as exc:
        fail(f"database error: {str(exc.orig).strip().splitlines()[0]}")
    except SQLAlchemyError as exc:
        fail(f"database error: {str(exc).splitlines()[0]}")
    finally:
        handle.dispose()


def pick_program(handle: Database, program: int | None) -> int:
    with handle.reader() as session:
        if program is not None:
            return programs.get_program(session, program).id
        found = programs.list_programs(session)
    if len(found) != 1:
        fail(f"the database holds {len(found)} programs: name one with --program")
    return found[0].id


def parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        fail(f"--now must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, not {value!r}", 2)


def day_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date such as 2026-01-31, not {value!r}", 2)
