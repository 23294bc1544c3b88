"""Sign-ups and orders credited to the member whose share link brought the customer.

A sign-up counts when a new member enrols with a share token (`share_token` in
`POST /v1/members`, which the store took from the `pc_share` parameter of the landing page)
within `attribution_days` after a click on that link. Its orders count while they are placed
within `attribution_days` after the sign-up. Refunds lower the attributed revenue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen, Signup
from punchcard.programs.domain import ProgramSettings
from punchcard.social import repository as repo
from punchcard.social.domain import is_token, order_in_window, signup_rejection

REFUNDS = ("order.refunded", "order.cancelled")


def on_enrol(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    created: bool,
    signup: Signup,
    now: datetime,
) -> dict[str, Any] | None:
    """Record the sign-up as attributed, or as rejected with its reason (`self_share`,
    `not_new`, `no_click`, `click_too_old`), and say which (None without a token). A token
    of no link or of another program's link (`share_token_unknown`), or of a program whose
    sharing is off (`sharing_inactive`), records nothing: the note says `ignored`, and the
    enrolment goes on regardless. A retried enrolment answers what the first one recorded."""
    if signup.share_token is None:
        return None
    token = signup.share_token.strip().lower()
    target = repo.click_target(session, token) if is_token(token) else None
    if target is None or target.program_id != program.id:
        return {"status": "ignored", "reason": "share_token_unknown"}
    if not target.active:
        return {"status": "ignored", "reason": "sharing_inactive"}
    last_click = repo.last_click(session, target.id, now)
    rejection = signup_rejection(
        sharer_id=target.member_id,
        member_id=member_id,
        created=created,
        last_click=last_click,
        now=now,
        attribution_days=target.attribution_days,
    )
    repo.insert_attribution(
        session,
        {
            "program_id": program.id,
            "member_id": member_id,
            "share_id": target.id,
            "sharer_id": target.member_id,
            "kind": "signup",
            "status": "attributed" if rejection is None else "rejected",
            "reason": None if rejection is None else rejection.value,
            "order_id": "",
            "refunded": 0,
            "clicked_at": last_click,
            "occurred_at": now,
            "created_at": now,
        },
    )
    found = repo.signup_outcome(session, program.id, member_id)
    if found is None:  # cannot happen: the row was just written, or was there already
        return None
    status, reason = found
    return {"status": status} if reason is None else {"status": status, "reason": reason}


def on_event(session: Session, seen: EventSeen) -> None:
    """One statement for an order or a refund of any member; none for other events."""
    if seen.type == "order.placed":
        _order(session, seen)
    elif seen.type in REFUNDS and seen.order_id is not None:
        repo.follow_refund(session, seen.program.id, seen.member_id, seen.order_id)


def _order(session: Session, seen: EventSeen) -> None:
    found = repo.attributed_signup(session, seen.program.id, seen.member_id)
    if found is None or seen.order_id is None:
        return
    if not order_in_window(found.signed_up_at, seen.occurred_at, found.attribution_days):
        return
    currency = seen.data.get("currency")
    repo.insert_attribution(
        session,
        {
            "program_id": seen.program.id,
            "member_id": seen.member_id,
            "share_id": found.share_id,
            "sharer_id": found.sharer_id,
            "kind": "order",
            "status": "attributed",
            "order_id": seen.order_id,
            "amount": seen.amount if seen.amount is not None else 0,
            "refunded": 0,
            "currency": currency if isinstance(currency, str) else None,
            "clicked_at": found.clicked_at,
            "occurred_at": seen.occurred_at,
            "created_at": seen.now,
        },
    )
