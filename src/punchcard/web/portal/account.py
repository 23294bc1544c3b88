"""Privacy and preferences: the member's language and marketing consent, and the language
switcher every page carries (it works for visitors too, through a cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.members import service as members
from punchcard.web import i18n
from punchcard.web.deps import AppSettings, Csrf, Db, Now, Session
from punchcard.web.errors import WebError
from punchcard.web.middleware import LANGUAGE_COOKIE
from punchcard.web.portal.common import local_path, page, see_other, signed_in
from punchcard.web.security import WebSession

router = APIRouter()
LANGUAGE_COOKIE_DAYS = 365


def _language(raw: str) -> str:
    if raw not in i18n.PORTAL_LOCALES:
        raise WebError(
            400,
            i18n.gettext("Unknown language"),
            i18n.gettext("Please choose one of the languages offered."),
        )
    return raw


def _save(session: WebSession, db: Db, now: Now, *, locale: str, consent: bool | None) -> None:
    """On the member and in the session, so the next page is already in the new language."""
    portal = signed_in(session, db)
    with session_scope(db.writer) as writing:
        members.set_preferences(
            writing,
            program_id=portal.program_id,
            member_id=portal.member.id,
            locale=locale,
            marketing_consent=consent,
            now=now,
        )
    session.data = {**session.data, "locale": locale}
    session.fresh = True


@router.get("/account")
def account(request: Request, session: Session, db: Db, saved: int = 0) -> Response:
    portal = signed_in(session, db)
    context = {"saved": saved == 1, "languages": i18n.PORTAL_LOCALES}
    return page(request, session, "account.html", context, portal=portal)


@router.post("/account", dependencies=[Csrf])
def save_account(
    session: Session,
    db: Db,
    now: Now,
    language: Annotated[str, Form(max_length=10)],
    marketing: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Consent left unanswered (as it is until the member first answers) stays unanswered."""
    if marketing not in ("yes", "no", ""):
        raise WebError(
            400,
            i18n.gettext("Something is missing"),
            i18n.gettext("Please answer yes or no about marketing messages."),
        )
    consent = None if marketing == "" else marketing == "yes"
    _save(session, db, now, locale=_language(language), consent=consent)
    return see_other("/portal/account?saved=1")


@router.post("/language", dependencies=[Csrf])
def switch_language(
    session: Session,
    db: Db,
    settings: AppSettings,
    now: Now,
    lang: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=500)] = "/portal/",
) -> Response:
    """A member's choice is saved on the member; a visitor's in a cookie."""
    locale = _language(lang)
    if session.subject is not None:
        _save(session, db, now, locale=locale, consent=None)
    response = see_other(local_path(next))
    response.set_cookie(
        LANGUAGE_COOKIE,
        locale,
        max_age=LANGUAGE_COOKIE_DAYS * 86400,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response
