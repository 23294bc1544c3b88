"""Referral fraud review: the referrals a fraud check flagged, with why, and the admin's
approve (the rewards follow, as the referrals service decides) or reject (with a reason)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.db import session_scope
from punchcard.errors import PunchcardError
from punchcard.referrals import review
from punchcard.referrals.domain import Status
from punchcard.web import i18n
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Program, not_found
from punchcard.web.admin.views import redirect, view
from punchcard.web.deps import Csrf, Db, Now, Session
from punchcard.web.errors import WebError

router = APIRouter()
LIMIT = 100


@router.get("/programs/{program_id}/referrals")
def referrals_page(request: Request, session: Session, program: Program, db: Db) -> Response:
    with db.reader() as read:
        flagged = review.list_referrals(
            read, program_id=program.id, before_id=None, limit=LIMIT, status=Status.REVIEW
        )
    return view(
        request,
        session,
        "referrals.html",
        i18n.gettext("Referrals to review in %(name)s", name=program.name),
        program=program,
        flagged=flagged,
    )


def _exists(db: Db, program_id: int, referral_id: int) -> None:
    with db.reader() as read:
        try:
            review.get(read, program_id=program_id, referral_id=referral_id)
        except PunchcardError:
            raise not_found() from None


@router.post("/programs/{program_id}/referrals/{referral_id}/approve", dependencies=[Csrf])
def approve(referral_id: Id, program: Program, db: Db, now: Now, form: Fields) -> Response:
    _exists(db, program.id, referral_id)
    note = form.get("note", "").strip()[:500] or None
    with session_scope(db.writer) as write:
        review.approve(write, program=program, referral_id=referral_id, note=note, now=now)
    return redirect(f"/admin/programs/{program.id}/referrals", "approved")


@router.post("/programs/{program_id}/referrals/{referral_id}/reject", dependencies=[Csrf])
def reject(referral_id: Id, program: Program, db: Db, now: Now, form: Fields) -> Response:
    _exists(db, program.id, referral_id)
    reason = form.get("reason", "").strip()[:500]
    if not reason:
        raise WebError(
            400,
            i18n.gettext("A reason is needed"),
            i18n.gettext("Say why the referral is rejected; nothing was changed."),
        )
    with session_scope(db.writer) as write:
        review.reject(write, program_id=program.id, referral_id=referral_id, reason=reason, now=now)
    return redirect(f"/admin/programs/{program.id}/referrals", "rejected")
