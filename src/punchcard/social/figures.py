"""The SQL of social sharing's figures: clicks and attributions per link and per platform."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from punchcard.models.base import table_of
from punchcard.models.share import ShareAttribution, ShareClick, ShareLink

_LINKS = table_of(ShareLink)
_CLICKS = table_of(ShareClick)
_ATTRIBUTIONS = table_of(ShareAttribution)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Figures:
    clicks: int = 0
    unique_clicks: int = 0
    signups: int = 0
    rejected_signups: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0.00")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _click_counts(share_ids: Any) -> Any:
    return (
        select(
            _CLICKS.c.share_id,
            func.count().label("clicks"),
            func.count(func.distinct(_CLICKS.c.visitor_hash)).label("unique_clicks"),
        )
        .where(_CLICKS.c.share_id.in_(share_ids))
        .group_by(_CLICKS.c.share_id)
    )


def _attribution_counts(share_ids: Any) -> Any:
    attributed = _ATTRIBUTIONS.c.status == "attributed"
    signup, order = _ATTRIBUTIONS.c.kind == "signup", _ATTRIBUTIONS.c.kind == "order"
    return (
        select(
            _ATTRIBUTIONS.c.share_id,
            func.sum(case((and_(signup, attributed), 1), else_=0)).label("signups"),
            func.sum(case((and_(signup, ~attributed), 1), else_=0)).label("rejected"),
            func.sum(case((and_(order, attributed), 1), else_=0)).label("orders"),
            func.sum(
                case(
                    (and_(order, attributed), _ATTRIBUTIONS.c.amount - _ATTRIBUTIONS.c.refunded),
                    else_=0,
                )
            ).label("revenue"),
        )
        .where(_ATTRIBUTIONS.c.share_id.in_(share_ids))
        .group_by(_ATTRIBUTIONS.c.share_id)
    )


def figures(session: Session, share_ids: list[int]) -> dict[int, Figures]:
    """Clicks and attributions of each link: two statements for a whole page."""
    if not share_ids:
        return {}
    clicks = {r.share_id: r for r in session.execute(_click_counts(share_ids)).all()}
    attributed = {r.share_id: r for r in session.execute(_attribution_counts(share_ids)).all()}
    out = {}
    for share_id in share_ids:
        c, a = clicks.get(share_id), attributed.get(share_id)
        out[share_id] = Figures(
            clicks=int(c.clicks) if c else 0,
            unique_clicks=int(c.unique_clicks) if c else 0,
            signups=int(a.signups or 0) if a else 0,
            rejected_signups=int(a.rejected or 0) if a else 0,
            orders=int(a.orders or 0) if a else 0,
            revenue=_money(a.revenue if a else 0),
        )
    return out


@dataclass(frozen=True)
class PlatformRow:
    platform: str
    links: int
    shares: int
    points: int
    figures: Figures


def summary(session: Session, program_id: int) -> list[PlatformRow]:
    """Per platform: links, shares and points, then clicks and attributions of those links."""
    program_links = select(_LINKS.c.id).where(_LINKS.c.program_id == program_id)
    clicks = _click_counts(program_links).subquery()
    attributed = _attribution_counts(program_links).subquery()
    rows = session.execute(
        select(
            _LINKS.c.platform,
            func.count(),
            func.sum(_LINKS.c.share_count),
            func.sum(_LINKS.c.points),
            func.sum(func.coalesce(clicks.c.clicks, 0)),
            func.sum(func.coalesce(clicks.c.unique_clicks, 0)),
            func.sum(func.coalesce(attributed.c.signups, 0)),
            func.sum(func.coalesce(attributed.c.rejected, 0)),
            func.sum(func.coalesce(attributed.c.orders, 0)),
            func.sum(func.coalesce(attributed.c.revenue, 0)),
        )
        .select_from(_LINKS)
        .outerjoin(clicks, clicks.c.share_id == _LINKS.c.id)
        .outerjoin(attributed, attributed.c.share_id == _LINKS.c.id)
        .where(_LINKS.c.program_id == program_id)
        .group_by(_LINKS.c.platform)
        .order_by(_LINKS.c.platform)
    ).all()
    return [
        PlatformRow(
            platform=r[0],
            links=int(r[1]),
            shares=int(r[2] or 0),
            points=int(r[3] or 0),
            figures=Figures(
                clicks=int(r[4] or 0),
                unique_clicks=int(r[5] or 0),
                signups=int(r[6] or 0),
                rejected_signups=int(r[7] or 0),
                orders=int(r[8] or 0),
                revenue=_money(r[9]),
            ),
        )
        for r in rows
    ]
