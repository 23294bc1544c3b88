"""The re-evaluation job as the worker and the CLI run it."""

from __future__ import annotations

from typer.testing import CliRunner

from punchcard import cli
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.jobs import run_all
from punchcard.kit.clock import FixedClock
from tests.conftest import Api
from tests.tiers.helpers import at, buy, history, put_tiers, tier_of


def test_run_all_reports_the_tiers_it_re_evaluated(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_tiers(api)
    member = buy(api, clock, "job", "600.00", at(2026, 2, 1))["member_id"]
    report = run_all(db, now=at(2028, 1, 1, 0), settings=Settings(database_url=db.url))
    assert report.tiers >= 1
    assert "re-evaluated" in report.summary()
    assert tier_of(api, member)["tier"] == "Silver"
    again = run_all(db, now=at(2028, 1, 1, 0), settings=Settings(database_url=db.url))
    assert again.failures == []
    assert [c["change"] for c in history(api, member)] == ["downgraded", "upgraded"]


def test_the_cli_evaluates_one_program(api: Api, db: Database, clock: FixedClock) -> None:
    put_tiers(api, window="rolling_12_months")
    member = buy(api, clock, "cli", "600.00", at(2026, 2, 1))["member_id"]
    runner = CliRunner()
    args = ["tiers", "evaluate", "--db", db.url, "--program", str(api.program.id)]
    early = runner.invoke(cli.app, [*args, "--now", "2027-01-31T00:00:00Z"])
    assert early.exit_code == 0, early.output
    assert "re-evaluated 0 member tier(s)" in early.output
    done = runner.invoke(cli.app, [*args, "--now", "2027-02-02T00:00:00Z"])
    assert done.exit_code == 0, done.output
    assert "re-evaluated 1 member tier(s)" in done.output
    assert tier_of(api, member)["tier"] == "Silver"
    bad = runner.invoke(cli.app, [*args, "--now", "soon"])
    assert bad.exit_code == 2
