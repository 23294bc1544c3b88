"""GET /v1/analytics/summary: the program's KPIs for a range of days, for admins and analysts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from punchcard.analytics.kpis import service
from punchcard.analytics.kpis.schemas import SummaryOut
from punchcard.api.deps import Caller, DbDep, NowDep, require
from punchcard.api.schemas import errors
from punchcard.errors import InvalidInputError
from punchcard.programs.domain import Scope

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

Analyst = Annotated[Caller, Depends(require((Scope.ADMIN, Scope.ANALYST)))]
Day = Annotated[
    str | None,
    Query(description="A UTC day, YYYY-MM-DD."),
]


def parse_day(value: str | None, name: str) -> date | None:
    """Dates are parsed here, not by FastAPI, so a bad one gets the same error code as a
    range that runs backwards."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"{name} must be a date such as 2026-01-31, not {value!r}",
            code="invalid_date",
            details={name: value},
        ) from exc


@router.get(
    "/summary", response_model=SummaryOut, response_model_by_alias=True, responses=errors(403, 422)
)
def summary(
    who: Analyst,
    db: DbDep,
    now: NowDep,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="First UTC day, YYYY-MM-DD (default: the first day of "
            "the program's history).",
        ),
    ] = None,
    to: Annotated[str | None, Query(description="Last UTC day, included (default: today).")] = None,
) -> SummaryOut:
    """Members, activity, points, rates, liability, orders, retention, churn, tiers, channels,
    campaigns, rewards and ROI: every figure is defined in docs/kpis.md. 422 `invalid_date`,
    `invalid_date_range` (from after to) or `date_out_of_range`."""
    first, last = parse_day(from_, "from"), parse_day(to, "to")
    with db.reader() as session:
        return service.summary(
            session, program_id=who.program_id, first=first, last=last, today=now.date()
        )
