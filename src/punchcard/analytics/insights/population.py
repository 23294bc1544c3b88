"""Every buying member scored at once with the kept model: the segment counts and the list of
members of one segment, so that offers reach the members who are slipping away in time.

Scoring is one pass over the program's orders (the same read a fit makes, without the
optimisation): well under a second for tens of thousands of members, seconds for a million.
The routes cache it for the cache TTL per (program, kept model, day, horizons): a refit is
seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.analytics.insights import repository as repo
from punchcard.analytics.insights import service
from punchcard.analytics.prediction import history, model
from punchcard.analytics.prediction.rfm import SEGMENTS
from punchcard.errors import NotFoundError
from punchcard.models import Member
from punchcard.programs import service as programs


@dataclass(frozen=True)
class Population:
    kept: service.Analysis
    as_of: date
    summary: history.Summary | None  # None: nobody had bought by `as_of`
    scores: model.Scores | None
    segment: np.ndarray  # the segment name of each scored member, as a numpy array of str
    notes: list[str]

    @property
    def members_scored(self) -> int:
        return int(self.segment.size)


@dataclass(frozen=True)
class SegmentTotals:
    segment: str
    members: int
    share: float
    average_p_alive: float | None
    expected_purchases: float
    clv: float | None


@dataclass(frozen=True)
class ScoredMember:
    member_id: int
    external_id: str
    p_alive: float
    expected_purchases: float
    clv: float | None
    r: int
    f: int
    m: int
    segment: str
    last_purchase_days_ago: int


def kept_or_404(session: Session, program_id: int) -> service.Analysis:
    kept = service.latest(session, program_id=program_id)
    if kept is None:
        raise NotFoundError(
            "no prediction model has been kept for this program yet: "
            "POST /v1/analytics/predictions first",
            code="model_not_found",
        )
    return kept


def score_all(
    session: Session,
    *,
    kept: service.Analysis,
    program_id: int,
    today: date,
    weeks: float,
    months: int,
    rate: float,
) -> Population:
    currency = programs.get_program(session, program_id).currency
    ids, days, values = repo.order_history(session, program_id, currency=currency, until=today)
    notes: list[str] = []
    if not ids.size:
        notes.append(f"no member had bought by {today}: there is nobody to score")
        return Population(kept, today, None, None, np.empty(0, dtype=object), notes)
    summary = history.summarise(ids, days, values, calibration_end=today)
    scores = service.score_with(kept, summary, weeks, months, rate, currency=currency, notes=notes)
    segment = np.asarray(scores.segment, dtype=object)
    return Population(kept, today, summary, scores, segment, notes)


def totals(population: Population) -> list[SegmentTotals]:
    """Every named segment, in the order of `SEGMENTS`, empty ones included."""
    scores = population.scores
    count = max(population.members_scored, 1)
    found = []
    for name in SEGMENTS:
        if scores is None:
            found.append(SegmentTotals(name, 0, 0.0, None, 0.0, None))
            continue
        mask = population.segment == name
        members = int(mask.sum())
        clv = None if scores.clv is None else float(np.sum(scores.clv[mask]))
        found.append(
            SegmentTotals(
                name,
                members,
                members / count,
                float(scores.p_alive[mask].mean()) if members else None,
                float(scores.expected_purchases[mask].sum()),
                clv,
            )
        )
    return found


def members_of(
    session: Session, population: Population, *, segment: str, limit: int
) -> list[ScoredMember]:
    """The segment's members, most valuable first (CLV, else expected purchases)."""
    scores, summary = population.scores, population.summary
    if scores is None or summary is None:
        return []
    where = np.flatnonzero(population.segment == segment)
    rank_by = scores.clv if scores.clv is not None else scores.expected_purchases
    chosen = where[np.argsort(-rank_by[where], kind="stable")][:limit]
    ids = [int(summary.customer[i]) for i in chosen]
    rows = session.execute(select(Member.id, Member.external_id).where(Member.id.in_(ids)))
    external = {int(row.id): str(row.external_id) for row in rows}
    return [
        ScoredMember(
            member_id=ids[n],
            external_id=external.get(ids[n], ""),
            p_alive=float(scores.p_alive[i]),
            expected_purchases=float(scores.expected_purchases[i]),
            clv=None if scores.clv is None else float(scores.clv[i]),
            r=int(scores.r[i]),
            f=int(scores.f[i]),
            m=int(scores.m[i]),
            segment=segment,
            last_purchase_days_ago=int(summary.recency_days[i]),
        )
        for n, i in enumerate(chosen)
    ]
