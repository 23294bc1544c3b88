"""The dashboard: it renders the KPI summary with the data its charts draw (points per month,
liability, tier mix, campaigns) and the retention heat map, and its CSV link downloads the
same rows as `punchcard analytics report --csv`."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

from punchcard.analytics.kpis.report import to_csv
from punchcard.analytics.kpis.service import summary
from punchcard.db import session_scope
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from tests.web.admin.conftest import Console


def _with_points(console: Console) -> None:
    with session_scope(console.db.writer) as session:
        member, _ = members.enrol(
            session, program_id=console.program.id, external_id="dash-1", now=console.clock()
        )
        ledger.credit(
            session, program=console.program, member_id=member.id, points=250,
            reason="order", now=console.clock(),
        )  # fmt: skip
        ledger.debit(
            session, program=console.program, member_id=member.id, points=40,
            reason="reward", now=console.clock(),
        )  # fmt: skip


def test_the_dashboard_renders_with_chart_data(console: Console) -> None:
    _with_points(console)
    page = console.get(f"{console.base}/dashboard")
    assert page.status_code == 200, page.text
    block = re.search(
        r'<script type="application/json" id="chart-data">(.*?)</script>', page.text, re.S
    )
    assert block, "no chart data"
    data = json.loads(block.group(1))
    month = console.clock().strftime("%Y-%m")
    assert data["points"]["labels"][-1] == month
    assert data["points"]["issued"][-1] == 250
    assert data["points"]["redeemed"][-1] == 40
    assert data["liability"]["values"][0] == 210
    assert sum(data["tiers"]["values"]) == 1
    for canvas in ("chart-points", "chart-liability", "chart-tiers", "chart-campaigns"):
        assert f'<canvas id="{canvas}"' in page.text
    assert '<script src="/static/vendor/chart.umd.min.js"' in page.text
    assert '<script src="/static/admin-charts.js"' in page.text
    assert 'class="heat"' in page.text


def test_a_bad_range_is_a_page_not_a_trace(console: Console) -> None:
    page = console.get(f"{console.base}/dashboard", params={"from": "2026-13-01"})
    assert 400 <= page.status_code < 500
    assert "Traceback" not in page.text
    assert "<title>" in page.text


def test_the_csv_export_is_the_reports(console: Console) -> None:
    _with_points(console)
    page = console.get(f"{console.base}/dashboard")
    link = re.search(r'href="([^"]*dashboard\.csv[^"]*)"', page.text)
    assert link
    download = console.get(unescape(link.group(1)))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    today = console.clock().date()
    with console.db.reader() as session:
        found = summary(session, program_id=console.program.id, first=None, last=today, today=today)
    assert download.text == to_csv(json.loads(found.model_dump_json(by_alias=True)))
    assert "points,issued,250" in download.text
    ranged = console.get(
        f"{console.base}/dashboard.csv",
        params={"from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat()},
    )
    assert ranged.status_code == 200
    assert ranged.text.startswith("section,key,value\n")
