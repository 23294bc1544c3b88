"""The member's points history, each line with what it was for, and one line in detail.

A line's explanation comes from what the ledger recorded with it (its kind, the order, the
reward, the challenge, the badge...), put into words in the member's language here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.api.schemas import MAX_ID
from punchcard.ledger import queries as ledger
from punchcard.ledger.errors import TransactionNotFoundError
from punchcard.ledger.queries import TransactionDetail
from punchcard.web import i18n
from punchcard.web.deps import Db, Session
from punchcard.web.portal import queries
from punchcard.web.portal.common import not_found, page, signed_in

router = APIRouter()
PAGE_SIZE = 20


def explain(tx: TransactionDetail, rewards: dict[int, str]) -> str:
    """What earned or spent the points, in a sentence."""
    _ = i18n.gettext
    meta: dict[str, Any] = tx.meta or {}
    if tx.kind == "reversal":
        if meta.get("cancelled"):
            return _("Reward cancelled: the points were given back")
        if tx.reason in ("order refunded", "order cancelled") and tx.reference:
            return _("Order %(order)s was returned or cancelled", order=tx.reference)
        return _("Correction of an earlier line")
    if tx.kind == "expire":
        return _("Points expired")
    if tx.kind == "release":
        return _("Pending points became available")
    if tx.kind in ("spend", "donate"):
        if meta.get("points_payment"):
            return _("Paid part of an order with points")
        name = rewards.get(int(meta.get("reward_id") or 0))
        if tx.kind == "donate":
            return _("Donation: %(name)s", name=name) if name else _("Donation")
        return _("Reward: %(name)s", name=name) if name else _("Reward")
    if tx.kind in ("adjust_credit", "adjust_debit"):
        return _("Adjustment by the store: %(reason)s", reason=tx.reason)
    return _earned(tx, meta)


def _earned(tx: TransactionDetail, meta: dict[str, Any]) -> str:
    _ = i18n.gettext
    if "challenge_id" in meta:
        return _("Challenge completed")
    if "streak_id" in meta:
        return _("Streak bonus")
    if "badge_id" in meta:
        return _("Badge earned: %(name)s", name=str(meta.get("badge", "")))
    if "referral_id" in meta:
        return _("Referral: a friend you invited ordered")
    if "share_id" in meta:
        return _("Shared on %(platform)s", platform=str(meta.get("platform", "")))
    if meta.get("order_id") or tx.reason == "order placed":
        return _("Order %(order)s", order=str(meta.get("order_id") or tx.reference or ""))
    return _("Activity: %(what)s", what=tx.reason)


@router.get("/history")
def history(
    request: Request,
    session: Session,
    db: Db,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    portal = signed_in(session, db)
    with db.reader() as reading:
        lines, last = ledger.transactions_page(
            reading, portal.program_id, portal.member.id, before_id=before, limit=PAGE_SIZE
        )
        wanted = {int((t.meta or {}).get("reward_id") or 0) for t in lines} - {0}
        names = queries.reward_names(reading, portal.program_id, wanted)
    rows = [(t, explain(t, names)) for t in lines]
    partial = request.headers.get("HX-Request") == "true" and before is not None
    context = {"rows": rows, "next_before": last, "first_page": before is None, "oob": partial}
    template = "history_rows.html" if partial else "history.html"
    return page(request, session, template, context, portal=portal)


@router.get("/history/{tx_id}")
def history_line(request: Request, session: Session, db: Db, tx_id: Id) -> Response:
    """Another member's line is as absent as a line that does not exist."""
    portal = signed_in(session, db)
    try:
        with db.reader() as reading:
            tx = ledger.transaction(reading, portal.program_id, portal.member.id, tx_id)
            wanted = {int((tx.meta or {}).get("reward_id") or 0)} - {0}
            names = queries.reward_names(reading, portal.program_id, wanted)
    except TransactionNotFoundError:
        raise not_found() from None
    context = {"tx": tx, "explanation": explain(tx, names), "rule_version": _rule(tx)}
    return page(request, session, "history_line.html", context, portal=portal)


def _rule(tx: TransactionDetail) -> int | None:
    version = (tx.meta or {}).get("rule_version")
    return version if isinstance(version, int) else None
