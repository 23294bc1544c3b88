"""Signing in to the console with an e-mail and a password, and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.web import i18n
from punchcard.web.admin import guard, users
from punchcard.web.admin.views import redirect, view
from punchcard.web.deps import Csrf, Db, Now, Session

router = APIRouter()


@router.get("/sign-in")
def sign_in_page(request: Request, session: Session) -> Response:
    if session.subject is not None:
        return redirect("/admin/")
    return view(request, session, "sign_in.html", i18n.gettext("Sign in"), email="", error=None)


@router.post("/sign-in", dependencies=[Csrf])
def sign_in(
    request: Request,
    session: Session,
    db: Db,
    now: Now,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Failures are committed too (they count towards the lock); the answer never says
    whether the e-mail exists, nor whether its account is locked."""
    with session_scope(db.writer) as write:
        found = users.authenticate(write, email=email, password=password, now=now)
    if found.outcome is users.Outcome.SIGNED_IN and found.admin_id is not None:
        guard.start(session, found.admin_id, found.at or now)
        return redirect("/admin/")
    # Wrong, unknown and locked all get the same answer: a different one for a locked
    # account would tell a stranger that the e-mail is an admin's. The lock still holds.
    return view(
        request,
        session,
        "sign_in.html",
        i18n.gettext("Sign in"),
        status_code=401,
        email=email,
        error=i18n.gettext(
            "Wrong e-mail or password, or too many tries: wait 15 minutes and try again."
        ),
    )


@router.post("/sign-out", dependencies=[Csrf])
def sign_out(session: Session, db: Db, now: Now) -> Response:
    """Ends every session of the admin, this browser's and any other (a copied cookie too)."""
    if session.subject is not None:
        with session_scope(db.writer) as write:
            users.end_sessions(write, session.subject, now)
    session.sign_out()
    return redirect("/admin/sign-in", "signed-out")
