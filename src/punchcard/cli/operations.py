"""The ledger check, the periodic jobs, tier evaluation and the bulk import."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from punchcard.cli.base import (
    DbOption,
    ProgramOption,
    ScopeOption,
    database,
    err,
    fail,
    import_app,
    jobs_app,
    ledger_app,
    parse_now,
    pick_program,
    tiers_app,
)
from punchcard.config import Settings
from punchcard.kit.clock import utcnow
from punchcard.programs import service as programs


@ledger_app.command("verify")
def verify(db: DbOption = None, program: ScopeOption = None) -> None:
    """Check every ledger invariant; exit 1 naming each violation."""
    from punchcard.ledger import verify as ledger_verify  # each command loads what it uses

    with database(db) as handle, handle.reader() as session:
        if program is not None:
            programs.get_program(session, program)
        report = ledger_verify.verify(session, program)
    for violation in report.violations:
        print(str(violation), file=sys.stderr)
    print(report.summary())
    if not report.ok:
        raise typer.Exit(1)


@jobs_app.command("run")
def jobs_run(
    db: DbOption = None,
    now: Annotated[str | None, typer.Option(help="Simulated time, ISO 8601 (default: now)")] = None,
) -> None:
    """Run every periodic job once, as of --now."""
    from punchcard.jobs import run_all

    moment = parse_now(now)
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

    moment = parse_now(now)
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
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=32,
            help="Processes, customers dealt out among them (default: the CPU count, at "
            "most 4); on SQLite they plan in parallel and write in turn.",
        ),
    ] = None,
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
                workers=workers or min(os.cpu_count() or 1, 4),
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
