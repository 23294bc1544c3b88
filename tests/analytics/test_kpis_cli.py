"""`punchcard analytics report` on the hand-computed program: the table, JSON (the API's body)
and CSV all exit 0 with its figures; a bad date exits 2 with one line."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from punchcard import cli
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop

shop_fixture = kpi_helpers.shop_fixture
RANGE = ("--from", "2026-01-15", "--to", "2026-03-10")


def report(shop: Shop, *args: str) -> tuple[int, str, str]:
    runner = CliRunner(env={"COLUMNS": "80", "PUNCHCARD_DATABASE_URL": None})
    result = runner.invoke(
        cli.app,
        ["analytics", "report", "--db", shop.db.url, "--program", str(shop.api.program.id), *args],
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_is_the_apis_body(shop: Shop) -> None:
    code, out, _ = report(shop, *RANGE, "--json")

    assert code == 0
    assert json.loads(out) == shop.summary("2026-01-15", "2026-03-10")


def test_csv_has_one_figure_a_row(shop: Shop) -> None:
    code, out, _ = report(shop, *RANGE, "--csv")

    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == ["section", "key", "value"]
    assert ["points", "issued", "240"] in rows
    assert ["liability", "money", "0.40"] in rows
    assert ["by_channel", "web.revenue", "190.00"] in rows
    assert ["retention", "2026-01.m1", "0.5"] in rows
    assert ["campaigns", "base.cost", "2.40"] in rows
    assert ["roi", "roi", "39.0"] in rows


def test_the_table_shows_the_figures(shop: Shop) -> None:
    code, out, _ = report(shop, *RANGE)

    assert code == 0
    assert "2026-01-15 to 2026-03-10 (USD)" in out
    lines = [line.split() for line in out.splitlines()]
    assert any(words[-3:] == ["│", "240", "│"] and "issued" in words for words in lines)


def test_a_bad_from_exits_2_with_one_line(shop: Shop) -> None:
    code, out, err = report(shop, "--from", "2026-13-01")

    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: --from must be a date")


def test_a_backwards_range_exits_2_with_one_line(shop: Shop) -> None:
    code, _, err = report(shop, "--from", "2026-03-01", "--to", "2026-02-01")

    assert code == 2
    assert err == "error: from (2026-03-01) is after to (2026-02-01)\n"
