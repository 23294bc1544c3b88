"""`punchcard` with no command, `serve`, `worker`, `demo` and `db upgrade`."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from punchcard import migrate
from punchcard.cli.base import DbOption, app, database, database_url, db_app
from punchcard.config import Settings
from punchcard.kit.clock import utcnow


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
    url = database_url(db)
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


@app.command()
def worker(
    db: DbOption = None,
    interval: Annotated[float | None, typer.Option(help="Seconds between passes.")] = None,
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
) -> None:
    """Run the periodic jobs in a loop until interrupted."""
    from punchcard.jobs import run_all  # each command loads what it uses

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

    url = database_url(db)
    with database(url) as handle:
        summary = build_demo(handle)
    print(summary.text(port or Settings().port))
    if serve_after:
        serve(db=url, host=None, port=port, workers=None, access_log=True)
