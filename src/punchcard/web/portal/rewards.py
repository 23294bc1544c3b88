"""The rewards catalog, and redeeming one: a confirmation page, then the post that spends.

The confirmation page carries a one-time nonce; the post uses it as the idempotency key of
the redemption, so a second post of the same form (a double click, a reload) finds the first
one's stored, sealed answer instead of spending again, and shows the same code."""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.db import session_scope
from punchcard.errors import ConflictError, NotFoundError
from punchcard.idempotency import service as idempotency
from punchcard.kit.hashing import sha256_hex
from punchcard.redemptions import service as redemptions
from punchcard.redemptions.errors import StoredResponseUnreadableError
from punchcard.redemptions.sealing import sealer_for
from punchcard.rewards import service as rewards
from punchcard.web import i18n
from punchcard.web.deps import AppSettings, Csrf, Db, Now, Session
from punchcard.web.errors import WebError
from punchcard.web.portal.common import Portal, not_found, page, see_other, signed_in
from punchcard.web.portal.offers import OfferView, offer_view
from punchcard.web.security import WebSession

router = APIRouter()
CHANNEL = "web"
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def receipt_key(member_id: int, nonce: str) -> str:
    return f"portal-redeem:{member_id}:{nonce}"


def _catalog(db: Db, portal: Portal, now: Now) -> tuple[rewards.MemberCatalog, list[OfferView]]:
    with db.reader() as reading:
        found = rewards.member_catalog(
            reading,
            program_id=portal.program_id,
            member_id=portal.member.id,
            now=now,
            channel=CHANNEL,
            include_unavailable=True,
        )
    views = [
        offer_view(
            offer,
            available=found.available,
            tier=found.tier,
            points=portal.points_name,
            currency=portal.program.currency,
            now=now,
        )
        for offer in found.offers
    ]
    return found, views


@router.get("/rewards")
def catalog(request: Request, session: Session, db: Db, now: Now) -> Response:
    portal = signed_in(session, db)
    found, views = _catalog(db, portal, now)
    views.sort(key=lambda v: (not v.redeemable, v.cost))
    context = {"available": found.available, "offers": views}
    return page(request, session, "rewards.html", context, portal=portal)


def _confirm(
    request: Request, session: WebSession, db: Db, now: Now, reward_id: int, status: int = 200
) -> Response:
    portal = signed_in(session, db)
    found, views = _catalog(db, portal, now)
    offer = next((v for v in views if v.id == reward_id), None)
    if offer is None:
        raise not_found()
    context = {
        "offer": offer,
        "available": found.available,
        "nonce": secrets.token_urlsafe(18),
        "refused": status != 200,
    }
    return page(request, session, "redeem.html", context, portal=portal, status_code=status)


@router.get("/rewards/{reward_id}/redeem")
def confirm(request: Request, session: Session, db: Db, now: Now, reward_id: Id) -> Response:
    return _confirm(request, session, db, now, reward_id)


@router.post("/rewards/{reward_id}/redeem", dependencies=[Csrf])
def redeem(
    request: Request,
    session: Session,
    db: Db,
    settings: AppSettings,
    now: Now,
    reward_id: Id,
    nonce: Annotated[str, Form(max_length=64)],
) -> Response:
    portal = signed_in(session, db)
    if not NONCE.match(nonce):
        raise _stale_form()
    key = receipt_key(portal.member.id, nonce)
    sealer = sealer_for(settings)
    try:
        with session_scope(db.writer) as writing:
            replay = idempotency.begin(
                writing,
                program_id=portal.program_id,
                key=key,
                fingerprint=sha256_hex(f"portal redeem {reward_id}"),
                now=now,
            )
            if replay is not None:
                redemption_id = int(json.loads(sealer.unseal(replay.body))["redemption_id"])
                return see_other(f"/portal/wallet/{redemption_id}?receipt={nonce}")
            issued = redemptions.redeem(
                writing,
                program=portal.program,
                member_id=portal.member.id,
                reward_id=reward_id,
                now=now,
                channel=CHANNEL,
            )
            redemption_id = issued.redemption.id
            body = {"redemption_id": redemption_id, "code": issued.code}
            idempotency.finish(
                writing,
                program_id=portal.program_id,
                key=key,
                status_code=201,
                body=sealer.seal(json.dumps(body).encode()),
            )
    except NotFoundError:
        raise not_found() from None
    except StoredResponseUnreadableError:  # redeemed before, under another secret key
        return see_other("/portal/wallet")
    except ConflictError as exc:
        if exc.code in ("idempotency_conflict", "idempotency_in_progress"):
            raise _stale_form() from None
        return _confirm(request, session, db, now, reward_id, status=409)
    return see_other(f"/portal/wallet/{redemption_id}?receipt={nonce}")


def _stale_form() -> WebError:
    return WebError(
        409,
        i18n.gettext("This form was already used"),
        i18n.gettext("Open the reward again from the rewards page to redeem it."),
    )
