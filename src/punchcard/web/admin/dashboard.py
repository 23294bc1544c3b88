"""The analytics dashboard: the KPI summary (the same service as GET /v1/analytics/summary)
drawn as charts by Chart.js from a JSON block on the page, the cohort retention as a shaded
table, and the summary as the CSV `punchcard analytics report --csv` writes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from punchcard.analytics.kpis import service as kpis
from punchcard.analytics.kpis.endpoints import parse_day
from punchcard.analytics.kpis.report import to_csv
from punchcard.analytics.kpis.schemas import SummaryOut
from punchcard.db import Database
from punchcard.web import i18n
from punchcard.web.admin import queries
from punchcard.web.admin.guard import Program
from punchcard.web.admin.views import view
from punchcard.web.deps import Db, Now, Session

router = APIRouter()
HEAT_STEPS = 5


def _summary(
    db: Database, program_id: int, first: str | None, last: str | None, today: date
) -> SummaryOut:
    with db.reader() as read:
        return kpis.summary(
            read,
            program_id=program_id,
            first=parse_day(first or None, "from"),
            last=parse_day(last or None, "to"),
            today=today,
        )


def heat_class(share: float | None) -> str:
    """h0 (none) to h5 (all of the cohort came back), for the heat map's cells."""
    if not share:
        return "h0"
    return f"h{min(HEAT_STEPS, 1 + int(share * HEAT_STEPS))}"


def chart_data(found: SummaryOut, months: list[tuple[str, int, int]]) -> dict[str, Any]:
    """What charts.js draws: plain lists, labels already in words."""
    _ = i18n.gettext
    liability = found.liability
    return {
        "points": {
            "labels": [m for m, _i, _r in months],
            "issued": [i for _m, i, _r in months],
            "redeemed": [r for _m, _i, r in months],
            "issuedLabel": _("Issued"),
            "redeemedLabel": _("Redeemed"),
        },
        "liability": {
            "labels": [_("Outstanding"), _("Expected to be redeemed"), _("Pending"), _("Debt")],
            "values": [
                liability.outstanding_points,
                liability.expected_redeemable_points,
                found.points.pending,
                found.points.debt,
            ],
            "label": _("Points"),
        },
        "tiers": {
            "labels": [t.tier or _("no tier") for t in found.tier_mix],
            "values": [t.members for t in found.tier_mix],
        },
        "campaigns": {
            "labels": [c.rule_id for c in found.campaigns],
            "points": [c.points for c in found.campaigns],
            "revenue": [float(c.revenue) for c in found.campaigns],
            "pointsLabel": _("Points given"),
            "revenueLabel": _("Revenue (%(currency)s)", currency=found.currency),
        },
    }


@router.get("/programs/{program_id}/dashboard")
def dashboard(
    request: Request,
    session: Session,
    program: Program,
    db: Db,
    now: Now,
    first: str = Query("", alias="from", max_length=20),
    last: str = Query("", alias="to", max_length=20),
) -> Response:
    found = _summary(db, program.id, first, last, now.date())
    with db.reader() as read:
        months = queries.points_by_month(read, program.id, found.to)
    query = f"?from={found.from_.isoformat()}&to={found.to.isoformat()}"
    return view(
        request,
        session,
        "dashboard.html",
        i18n.gettext("Dashboard of %(name)s", name=program.name),
        program=program,
        s=found,
        charts=chart_data(found, months),
        heat_class=heat_class,
        csv_url=f"/admin/programs/{program.id}/dashboard.csv{query}",
        first=found.from_.isoformat(),
        last=found.to.isoformat(),
    )


@router.get("/programs/{program_id}/dashboard.csv")
def dashboard_csv(
    program: Program,
    db: Db,
    now: Now,
    first: str = Query("", alias="from", max_length=20),
    last: str = Query("", alias="to", max_length=20),
) -> Response:
    """The same rows as `punchcard analytics report --csv`, as a download."""
    found = _summary(db, program.id, first, last, now.date())
    body = json.loads(found.model_dump_json(by_alias=True))
    name = f"punchcard-{program.id}-{found.from_.isoformat()}-{found.to.isoformat()}.csv"
    return Response(
        to_csv(body),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
