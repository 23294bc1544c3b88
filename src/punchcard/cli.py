"""The `punchcard` command. With no sub-command it serves the API."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from punchcard import migrate
from punchcard.config import DEFAULT_DATABASE_URL, Settings
from punchcard.db import Database, is_sqlite, open_database, session_scope
from punchcard.errors import PunchcardError
from punchcard.jobs import run_all
from punchcard.kit.clock import as_utc, utcnow
from punchcard.ledger import verify as ledger_verify
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, Scope

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


def _url(db: str | None) -> str:
    return db or Settings().database_url


@contextmanager
def database(db: str | None, *, upgrade: bool = False) -> Iterator[Database]:
    """Open the database for one command, with every expected failure as one line. SQLite is
    brought to the current schema (or any database, with `upgrade`); an out-of-date
    PostgreSQL schema is refused."""
    url = _url(db)
    try:
        handle = open_database(url)
    except ValidationError:  # a bad PUNCHCARD_* variable: main() names it
        raise
    except Exception as exc:  # a malformed URL or a missing driver
        fail(f"cannot open database {url!r}: {exc}")
    try:
        if upgrade or is_sqlite(url):
            migrate.upgrade(handle.engine)
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


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 1)")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the REST API (OpenAPI at /docs). Upgrades a SQLite schema itself; refuses to
    start on an out-of-date PostgreSQL schema."""
    import uvicorn

    settings = Settings()
    url = _url(db)
    with database(url):
        pass
    os.environ["PUNCHCARD_DATABASE_URL"] = url
    uvicorn.run(
        "punchcard.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=access_log,
    )


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database to the current schema (safe to run again)."""
    with database(db, upgrade=True) as handle:
        print(f"schema at {migrate.current_revision(handle.engine)} (head)")


@program_app.command("create")
def program_create(
    name: Annotated[str, typer.Option(help="The merchant's program name.")],
    db: DbOption = None,
    points_name: Annotated[str, typer.Option(help="What points are called.")] = "points",
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    expiry: Annotated[ExpiryPolicy, typer.Option(help="Expiry policy.")] = ExpiryPolicy.NEVER,
    expiry_value: Annotated[int, typer.Option(help="Days, or months for end_of_*.")] = 0,
    pending_days: Annotated[int, typer.Option(help="Return window in days.")] = 0,
    auto_enrol: Annotated[bool, typer.Option(help="Enrol unknown members on events.")] = True,
) -> None:
    """Create a program and its first admin API key; prints JSON (the key is shown once)."""
    with database(db) as handle, session_scope(handle.writer) as session:
        now = utcnow()
        program = programs.create_program(
            session,
            name=name,
            now=now,
            points_name=points_name,
            currency=currency,
            expiry_policy=expiry,
            expiry_value=expiry_value,
            pending_days=pending_days,
            auto_enrol=auto_enrol,
        )
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=now, name="admin"
        )
    print(json.dumps({"program_id": program.id, "api_key": key.api_key}))


@program_app.command("list")
def program_list(db: DbOption = None) -> None:
    """List programs as JSON lines."""
    with database(db) as handle, handle.reader() as session:
        for p in programs.list_programs(session):
            print(json.dumps({**p.__dict__, "expiry_policy": p.expiry_policy.value}))


@key_app.command("create")
def key_create(
    scopes: Annotated[str, typer.Option(help="Comma-separated: admin,storefront,pos,analyst")],
    db: DbOption = None,
    program: ProgramOption = None,
    name: Annotated[str, typer.Option(help="A label to tell keys apart.")] = "default",
) -> None:
    """Create an API key; prints JSON with the key (shown once)."""
    try:
        wanted = tuple(Scope(s.strip()) for s in scopes.split(",") if s.strip())
    except ValueError:
        fail(f"unknown scope in {scopes!r}; use admin, storefront, pos or analyst", 2)
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with session_scope(handle.writer) as session:
            key = programs.create_api_key(
                session, program_id=program_id, scopes=wanted, now=utcnow(), name=name
            )
    print(json.dumps({"program_id": program_id, "key_id": key.id, "api_key": key.api_key}))


@key_app.command("list")
def key_list(db: DbOption = None, program: ProgramOption = None) -> None:
    """List a program's keys (never the keys themselves) as JSON lines."""
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with handle.reader() as session:
            rows = programs.list_api_keys(session, program_id)
    for r in rows:
        print(
            json.dumps(
                {
                    "key_id": r.id,
                    "name": r.name,
                    "prefix": r.prefix,
                    "scopes": r.scopes.split(","),
                    "revoked": r.revoked_at is not None,
                }
            )
        )


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `key list`).")],
    db: DbOption = None,
    program: ProgramOption = None,
) -> None:
    """Revoke a key at once (the CLI may revoke the last admin key; the API may not)."""
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with session_scope(handle.writer) as session:
            programs.revoke_api_key(session, program_id=program_id, key_id=key_id, now=utcnow())
    print(json.dumps({"key_id": key_id, "revoked": True}))


def _new_password(from_stdin: bool) -> str:
    """The first line of stdin (for scripts), or asked twice on the terminal, hidden."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    except (typer.Abort, EOFError):
        fail("no password given: type it when asked, or pipe it with --password-stdin")
    return value


@admin_app.command("create-user")
def admin_create_user(
    email: Annotated[str, typer.Option(help="The admin's e-mail, used to sign in.")],
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="The admin's name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Create a user of the admin console (argon2id-hashed password, at least 10 characters);
    prints JSON with the new user's id."""
    from punchcard.web.admin import users

    password = _new_password(password_stdin)
    if len(password) < users.MIN_PASSWORD:
        fail(f"the password must be at least {users.MIN_PASSWORD} characters")
    with database(db) as handle, session_scope(handle.writer) as session:
        admin_id = users.create_user(
            session, email=email, password=password, now=utcnow(), name=name
        )
    print(json.dumps({"admin_user_id": admin_id, "email": users.normalise_email(email)}))


@ledger_app.command("verify")
def verify(db: DbOption = None, program: ScopeOption = None) -> None:
    """Check every ledger invariant; exit 1 naming each violation."""
    with database(db) as handle, handle.reader() as session:
        if program is not None:
            programs.get_program(session, program)
        report = ledger_verify.verify(session, program)
    for violation in report.violations:
        print(str(violation), file=sys.stderr)
    print(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        fail(f"--now must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, not {value!r}", 2)


@jobs_app.command("run")
def jobs_run(
    db: DbOption = None,
    now: Annotated[str | None, typer.Option(help="Simulated time, ISO 8601 (default: now)")] = None,
) -> None:
    """Run every periodic job once, as of --now."""
    moment = _parse_now(now)
    with database(db) as handle:
        report = run_all(handle, now=moment, settings=Settings())
    print(report.summary())
    if report.failures:
        raise typer.Exit(1)


@tiers_app.command("evaluate")
def tiers_evaluate(
    db: DbOption = None,
    program: ScopeOption = None,
    now: Annotated[str | None, typer.Option(help="Simulated time, ISO 8601 (default: now)")] = None,
) -> None:
    """Renew or move down every member whose tier period (and grace) ended by --now."""
    from punchcard.tiers.tasks import reevaluate

    moment = _parse_now(now)
    failures: list[str] = []
    with database(db) as handle:
        if program is not None:
            pick_program(handle, program)
        count = reevaluate(
            handle,
            now=moment,
            batch_size=Settings().jobs_batch_size,
            program_id=program,
            failures=failures,
        )
    print(f"re-evaluated {count} member tier(s)")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        raise typer.Exit(1)


@import_app.command("orders")
def import_orders_command(
    file: Annotated[Path, typer.Argument(help="The order history file.")],
    fmt: Annotated[
        str, typer.Option("--format", help="cdnow, cdnow-sample or csv (see docs/events.md)")
    ] = "csv",
    db: DbOption = None,
    program: ProgramOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import order history through the program's rules; importing a file again adds nothing."""
    from rich.progress import Progress

    from punchcard.events.importer import import_orders
    from punchcard.events.sources import FORMATS, read

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}", 2)
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    total = sum(1 for _ in file.open(encoding="utf-8"))
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with Progress(console=err, disable=as_json, transient=True) as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            report = import_orders(
                handle,
                program_id=program_id,
                rows=read(file, fmt),
                fmt=fmt,
                now=utcnow(),
                progress=lambda n: bar.advance(task, n),
            )
    if as_json:
        print(json.dumps(report.as_json()))
        return
    summary = report.as_json()
    print(
        f"read {summary['orders_read']} rows, imported {summary['orders_imported']} orders, "
        f"created {summary['members_created']} members"
    )
    for reason, count in report.skipped.items():
        print(f"skipped {count}: {reason}")
    for example in report.examples:
        print(f"  {example}", file=sys.stderr)


def _day_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date such as 2026-01-31, not {value!r}", 2)


@analytics_app.command("report")
def analytics_report(
    db: DbOption = None,
    program: ProgramOption = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The program's KPIs for a date range (default: all of its history), by channel and tier."""
    from punchcard.analytics.kpis.report import render

    if as_json and as_csv:
        fail("choose one of --json and --csv", 2)
    first, last = _day_option(start, "--from"), _day_option(end, "--to")
    output = "json" if as_json else "csv" if as_csv else "table"
    with database(db) as handle:
        program_id = pick_program(handle, program)
        try:
            text = render(handle, program_id=program_id, start=first, end=last, output=output)
        except PunchcardError as exc:
            fail(exc.message, 2)
    print(text, end="" if text.endswith("\n") else "\n")


@analytics_app.command("clv")
def analytics_clv(
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help="Learn from orders up to this day, YYYY-MM-DD.")
    ],
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Check the forecast on the orders up to this day."),
    ] = None,
    db: DbOption = None,
    program: ProgramOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    save: Annotated[
        bool, typer.Option("--save", help="Keep the fit as the program's model for insights.")
    ] = False,
) -> None:
    """Fit BG/NBD and Gamma-Gamma on the program's orders; with --holdout-end, compare the
    forecast with what members bought next (repeat purchases and the AUC of buying again)."""
    from punchcard.analytics.insights import service as insights
    from punchcard.analytics.insights.schemas import PredictionOut
    from punchcard.analytics.insights.text import describe

    first = _day_option(calibration_end, "--calibration-end")
    last = _day_option(holdout_end, "--holdout-end")
    assert first is not None
    if last is not None and last <= first:
        fail("--holdout-end must come after --calibration-end", 2)
    now = utcnow()
    with database(db) as handle:
        program_id = pick_program(handle, program)
        try:
            with handle.reader() as session:
                analysis = insights.analyse(
                    session,
                    program_id=program_id,
                    calibration_end=first,
                    holdout_end=last,
                    today=now.date(),
                )
            if save:
                with session_scope(handle.writer) as session:
                    analysis = insights.keep(
                        session, program_id=program_id, analysis=analysis, now=now
                    )
        except PunchcardError as exc:
            fail(exc.message, 2)
    found = PredictionOut.of(analysis)
    if as_json:
        print(found.model_dump_json())
        return
    print(describe(found))


@app.command()
def worker(
    db: DbOption = None,
    interval: Annotated[float | None, typer.Option(help="Seconds between passes.")] = None,
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
) -> None:
    """Run the periodic jobs in a loop until interrupted."""
    settings = Settings()
    pause = interval or settings.jobs_interval_seconds
    with database(db) as handle:
        try:
            while True:
                report = run_all(handle, now=utcnow(), settings=settings)
                print(f"{utcnow().isoformat()} {report.summary()}", file=sys.stderr, flush=True)
                if once:
                    return
                time.sleep(pause)
        except KeyboardInterrupt:
            print("worker stopped", file=sys.stderr)


@app.command()
def demo(
    db: DbOption = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve when built.")
    ] = True,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Build a demo program from the real CDNOW order history (about two minutes the first
    time; run again it reuses it), print keys and examples, then serve it."""
    from punchcard.demo import build_demo

    url = _url(db)
    with database(url) as handle:
        summary = build_demo(handle)
    print(summary.text(port or Settings().port))
    if serve_after:
        serve(db=url, host=None, port=port, workers=None, access_log=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ValidationError as exc:  # a PUNCHCARD_* variable with a bad value
        first = exc.errors()[0]
        name = "PUNCHCARD_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        print(f"error: {name}: {first['msg']}", file=sys.stderr)
        sys.exit(2)
