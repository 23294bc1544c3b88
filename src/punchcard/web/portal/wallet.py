"""The member's wallet: every code and place they hold, and one of them in full.

A code exists in clear only in the answer to its redemption. The portal keeps that answer
sealed as the redemption's idempotent response, so the page the redemption leads to (and a
reload of it, for as long as stored responses are kept) can show the whole code; afterwards
the wallet shows its last characters, like the API."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.api.schemas import MAX_ID
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.errors import PunchcardError
from punchcard.redemptions import repository as redemption_rows
from punchcard.redemptions import service as redemptions
from punchcard.redemptions.errors import RedemptionNotFoundError
from punchcard.redemptions.repository import RedemptionRow
from punchcard.redemptions.sealing import sealer_for
from punchcard.web.deps import AppSettings, Db, Now, Session
from punchcard.web.portal import offers, queries
from punchcard.web.portal.common import Portal, not_found, page, signed_in
from punchcard.web.portal.rewards import NONCE, receipt_key

router = APIRouter()
PAGE_SIZE = 30


@router.get("/wallet")
def wallet(
    request: Request,
    session: Session,
    db: Db,
    now: Now,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    portal = signed_in(session, db)
    with db.reader() as reading:
        rows = redemption_rows.page_for_member(
            reading, portal.program_id, portal.member.id, before_id=before, limit=PAGE_SIZE + 1
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    items = [(r, offers.title(r), offers.status(r, now), offers.usable(r, now)) for r in rows]
    context = {"items": items, "next_before": rows[-1].id if more and rows else None}
    return page(request, session, "wallet.html", context, portal=portal)


def _revealed(
    db: Database, settings: Settings, portal: Portal, redemption_id: int, nonce: str | None
) -> str | None:
    """The code in clear, from the redemption's sealed answer, if `nonce` is its receipt."""
    if nonce is None or not NONCE.match(nonce):
        return None
    with db.reader() as reading:
        sealed = queries.stored_response(
            reading, portal.program_id, receipt_key(portal.member.id, nonce)
        )
    if sealed is None:
        return None
    try:
        answer = json.loads(sealer_for(settings).unseal(sealed))
    except (PunchcardError, ValueError):
        return None
    if not isinstance(answer, dict) or answer.get("redemption_id") != redemption_id:
        return None
    code = answer.get("code")
    return code if isinstance(code, str) else None


def _donation(row: RedemptionRow) -> tuple[Decimal, str] | None:
    """What a donation achieved: the units (a number the page formats in the member's
    language) and the cause's unit as the store named it. The stored English phrase with its
    English plural ("2 trees") is for the API, not for the page."""
    if row.type != "donation" or not row.value:
        return None
    try:
        units = Decimal(row.value)
    except InvalidOperation:
        return None
    unit = (row.details or {}).get("impact_unit")
    return (units, unit) if isinstance(unit, str) and units.is_finite() else None


@router.get("/wallet/{redemption_id}")
def wallet_item(
    request: Request,
    session: Session,
    db: Db,
    settings: AppSettings,
    now: Now,
    redemption_id: Id,
    receipt: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Another member's redemption is as absent as one that does not exist."""
    portal = signed_in(session, db)
    try:
        with db.reader() as reading:
            row = redemptions.get(
                reading,
                program_id=portal.program_id,
                member_id=portal.member.id,
                redemption_id=redemption_id,
            )
    except RedemptionNotFoundError:
        raise not_found() from None
    code = _revealed(db, settings, portal, redemption_id, receipt)
    context = {
        "row": row,
        "reward_name": offers.title(row),
        "status": offers.status(row, now),
        "usable": offers.usable(row, now),
        "code": code,
        "just_redeemed": code is not None,
        "donation": _donation(row),
    }
    return page(request, session, "wallet_item.html", context, portal=portal)
