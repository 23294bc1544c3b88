"""The home page (balance, pending and expiring points, tier) and the digital card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session as DbSession
from starlette.responses import Response

from punchcard.ledger import queries as ledger
from punchcard.members.card import qr_image
from punchcard.tiers import service as tiers
from punchcard.tiers.domain import Metric
from punchcard.web.deps import Db, Now, Session
from punchcard.web.portal import queries
from punchcard.web.portal.common import Portal, page, signed_in

router = APIRouter()
EXPIRING_SOON_DAYS = 90


@dataclass(frozen=True)
class TierView:
    """The member's tier and how far the next one is (metric "points" or "spend")."""

    name: str | None
    perks: tuple[str, ...]
    next_tier: str | None
    needed: Decimal
    value: Decimal
    threshold: Decimal
    metric: str
    by: date | None


def _tier(reading: DbSession, portal: Portal, now: datetime) -> TierView | None:
    try:
        found = tiers.standing(
            reading,
            program_id=portal.program_id,
            member_id=portal.member.id,
            now=now,
        )
    except tiers.TiersNotConfiguredError:
        return None
    held = found.policy.get(found.held.tier)
    target = found.policy.next_above(found.held.tier)
    progress = found.progress
    return TierView(
        name=found.held.tier,
        perks=held.perks if held is not None else (),
        next_tier=progress.next_tier if progress is not None else None,
        needed=progress.needed if progress is not None else Decimal(0),
        value=found.value,
        threshold=target.threshold if target is not None else found.value,
        metric="spend" if found.policy.metric is Metric.SPEND else "points",
        by=progress.by if progress is not None else None,
    )


@router.get("/")
def home(request: Request, session: Session, db: Db, now: Now) -> Response:
    portal = signed_in(session, db)
    with db.reader() as reading:
        balance = ledger.balance(reading, portal.program_id, portal.member.id, now)
        pending = queries.pending(reading, portal.program_id, portal.member.id)
        tier = _tier(reading, portal, now)
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    context = {
        "balance": balance,
        "pending": pending,
        "expiring": [e for e in balance.expiring if e.expires_at <= soon],
        "tier": tier,
    }
    return page(request, session, "home.html", context, portal=portal)


@router.get("/card")
def card(request: Request, session: Session, db: Db) -> Response:
    portal = signed_in(session, db)
    return page(request, session, "card.html", {}, portal=portal)


@router.get("/card/qr.svg")
def card_qr(session: Session, db: Db) -> Response:
    """The card's QR code (it carries the random QR token, not the card number)."""
    portal = signed_in(session, db)
    return Response(
        qr_image(portal.member.qr_token, "svg"),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )
