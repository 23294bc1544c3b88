"""`analytics report` (the KPIs) and `analytics clv` (the customer-base model)."""

from __future__ import annotations

from typing import Annotated

import typer

from punchcard.cli.base import (
    DbOption,
    ProgramOption,
    analytics_app,
    database,
    day_option,
    fail,
    pick_program,
)
from punchcard.db import session_scope
from punchcard.errors import PunchcardError
from punchcard.kit.clock import utcnow


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
    first, last = day_option(start, "--from"), day_option(end, "--to")
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

    first = day_option(calibration_end, "--calibration-end")
    last = day_option(holdout_end, "--holdout-end")
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
