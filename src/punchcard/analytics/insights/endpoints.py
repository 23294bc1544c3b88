"""/v1/analytics/predictions and /v1/members/{id}/insights: fit the customer-base model on the
program's orders, keep it, and read one member's forecast and segment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.analytics.insights import service
from punchcard.analytics.insights.errors import PredictionSettingsError
from punchcard.analytics.insights.population import (
    Population,
    kept_or_404,
    members_of,
    score_all,
    totals,
)
from punchcard.analytics.insights.schemas import (
    InsightsOut,
    ModelRefOut,
    PredictionCreate,
    PredictionOut,
    ScoredMemberOut,
    SegmentMembersOut,
    SegmentOut,
    SegmentsOut,
)
from punchcard.analytics.kpis.endpoints import parse_day
from punchcard.analytics.prediction.rfm import SEGMENTS
from punchcard.api.deps import Caller, DbDep, IdempotencyKey, NowDep, require
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.db import Database
from punchcard.errors import NotFoundError
from punchcard.idempotency import service as idempotency
from punchcard.programs.domain import Scope

router = APIRouter(tags=["analytics"])

Analyst = Annotated[Caller, Depends(require((Scope.ADMIN, Scope.ANALYST)))]
AsOf = Annotated[
    str | None,
    Query(description="Score as of the end of this day, YYYY-MM-DD (default: today)."),
]


@router.post(
    "/v1/analytics/predictions",
    response_model=PredictionOut,
    status_code=201,
    responses={200: {"model": PredictionOut}, **errors(400, 403, 409)},
)
def create_prediction(
    body: PredictionCreate,
    request: Request,
    who: Analyst,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Fit BG/NBD and Gamma-Gamma on the program's orders up to `calibration_end` and, with
    `holdout_end`, check the forecast against what happened next. Kept (201) unless `save` is
    false (200). 409 `no_orders`, `too_few_customers`, `single_day`, `no_repeat_purchases`,
    `fit_failed` when the orders cannot support a model yet; 422 for dates that make no sense."""
    today = now.date()
    calibration_end = body.calibration_end or today
    if body.holdout_end is not None and body.holdout_end <= calibration_end:
        raise PredictionSettingsError(
            "holdout_end must come after calibration_end",
            code="bad_holdout",
            details={"field": "holdout_end"},
        )

    def analyse(session: Session) -> service.Analysis:
        return service.analyse(
            session,
            program_id=who.program_id,
            calibration_end=calibration_end,
            holdout_end=body.holdout_end,
            today=today,
        )

    # The fit runs before the write, outside the write lock; a retry whose key was already
    # taken skips it and gets the stored answer from run_write.
    analysis: service.Analysis | None = None
    with db.reader() as session:
        key = idempotency_key
        if key is None or not idempotency.seen(session, program_id=who.program_id, key=key):
            analysis = analyse(session)

    def handler(session: Session) -> tuple[int, BaseModel]:
        found = analysis if analysis is not None else analyse(session)
        if not body.save:
            return 200, PredictionOut.of(found)
        kept = service.keep(session, program_id=who.program_id, analysis=found, now=now)
        return 201, PredictionOut.of(kept)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/analytics/predictions/latest", response_model=PredictionOut, responses=errors(403, 404)
)
def latest_prediction(who: Analyst, db: DbDep) -> PredictionOut:
    """The program's kept model: what members' insights are scored with."""
    with db.reader() as session:
        found = service.latest(session, program_id=who.program_id)
    if found is None:
        raise NotFoundError(
            "no prediction model has been kept for this program yet", code="model_not_found"
        )
    return PredictionOut.of(found)


@router.get(
    "/v1/members/{member_id}/insights",
    response_model=InsightsOut,
    responses=errors(403, 404, 409),
    tags=["members"],
)
def member_insights(
    member_id: Id,
    who: Analyst,
    db: DbDep,
    now: NowDep,
    weeks: Annotated[
        float, Query(gt=0, le=520, description="Forecast horizon for purchases, in weeks.")
    ] = 13.0,
    months: Annotated[int, Query(ge=1, le=120, description="CLV horizon in months.")] = 12,
    discount_rate: Annotated[
        float, Query(ge=0, le=1, description="Annual discount rate for CLV.")
    ] = 0.10,
    as_of: AsOf = None,
) -> InsightsOut:
    """The member's purchases, RFM scores and segment, chance of being still active, expected
    purchases, expected order value and CLV, scored with the program's kept model as of today."""
    day = _day(as_of, now.date())
    with db.reader() as session:
        found = service.member_insights(
            session,
            program_id=who.program_id,
            member_id=member_id,
            today=day,
            weeks=weeks,
            months=months,
            annual_discount_rate=discount_rate,
        )
    return InsightsOut.of(found)


Weeks = Annotated[
    float, Query(gt=0, le=520, description="Forecast horizon for purchases, in weeks.")
]
Months = Annotated[int, Query(ge=1, le=120, description="CLV horizon in months.")]
Rate = Annotated[float, Query(ge=0, le=1, description="Annual discount rate for CLV.")]


def _day(as_of: str | None, today: date) -> date:
    """Parsed here, not by FastAPI: a number is not a day (FastAPI would take 0 for 1970)."""
    day = parse_day(as_of, "as_of")
    if day is not None and day > today:
        raise PredictionSettingsError(
            f"as_of {day} is in the future", code="invalid_value", details={"field": "as_of"}
        )
    return day or today


def _population(
    db: Database, program_id: int, day: date, weeks: float, months: int, rate: float
) -> Population:
    with db.reader() as session:
        kept = kept_or_404(session, program_id)

    def load() -> Population:
        with db.reader() as session:
            return score_all(
                session,
                kept=kept,
                program_id=program_id,
                today=day,
                weeks=weeks,
                months=months,
                rate=rate,
            )

    key = ("prediction-population", program_id, kept.model_id, day, weeks, months, rate)
    return db.caches.get(key, load)


@router.get("/v1/analytics/segments", response_model=SegmentsOut, responses=errors(403, 404, 409))
def segments(
    who: Analyst,
    db: DbDep,
    now: NowDep,
    weeks: Weeks = 13.0,
    months: Months = 12,
    discount_rate: Rate = 0.10,
    as_of: AsOf = None,
) -> SegmentsOut:
    """How many buying members are in each RFM segment, how likely they are to be still active,
    and what they are expected to buy, scored with the kept model. 404 `model_not_found`."""
    found = _population(db, who.program_id, _day(as_of, now.date()), weeks, months, discount_rate)
    return SegmentsOut(
        as_of=found.as_of,
        model=ModelRefOut.of(found.kept),
        members_scored=found.members_scored,
        notes=found.notes,
        weeks=weeks,
        months=months,
        segments=[SegmentOut(**t.__dict__) for t in totals(found)],
    )


@router.get(
    "/v1/analytics/segments/{segment}/members",
    response_model=SegmentMembersOut,
    responses=errors(403, 404, 409),
)
def segment_members(
    segment: str,
    who: Analyst,
    db: DbDep,
    now: NowDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many members.")] = 100,
    weeks: Weeks = 13.0,
    months: Months = 12,
    discount_rate: Rate = 0.10,
    as_of: AsOf = None,
) -> SegmentMembersOut:
    """The segment's members, most valuable first: who to reach with an offer (for example
    `at_risk` and `cannot_lose`). 404 `segment_not_found` for a name not in the list."""
    if segment not in SEGMENTS:
        raise NotFoundError(
            f"no segment {segment!r}: one of {', '.join(SEGMENTS)}",
            code="segment_not_found",
        )
    day = _day(as_of, now.date())
    found = _population(db, who.program_id, day, weeks, months, discount_rate)
    with db.reader() as session:
        listed = members_of(session, found, segment=segment, limit=limit)
    return SegmentMembersOut(
        segment=segment,
        as_of=day,
        items=[ScoredMemberOut(**m.__dict__) for m in listed],
    )
