"""Signing in with a one-time code sent by e-mail, and signing out.

The visitor gives an e-mail address or a card number. Whether a member has it is never shown
(the same "if it is yours, a code is on its way" page either way), except that a card number
whose member has no e-mail on file is told so: the card is in the visitor's hand, and the
till can help. The sign-in in progress is kept in the session cookie as what the visitor
typed (never a member id), so the cookie tells nobody whether the member exists.

Every answer to a typed code is decided by the cookie alone: the tries are counted in it and
the code's age is judged from the time it keeps, for a member and for an unknown address
alike, so the answers cannot tell the two apart. The database still enforces the real limits
(each wrong try is counted on the code too). Only the right code of a used, locked or
expired code is told why it no longer works: whoever typed it has read the e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session as DbSession
from starlette.responses import Response

from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.errors import NotFoundError
from punchcard.kit import luhn
from punchcard.members import service as members
from punchcard.members.domain import IdentifierError, normalise_email
from punchcard.members.repository import MemberRow
from punchcard.outbox import service as outbox
from punchcard.programs import service as programs
from punchcard.web import i18n
from punchcard.web.deps import AppSettings, Csrf, Db, Now, Session
from punchcard.web.errors import WebError
from punchcard.web.portal import codes, queries
from punchcard.web.portal.codes import Outcome
from punchcard.web.portal.common import SIGNED_IN_AT, VISIT, micros, page, see_other
from punchcard.web.portal.mail import sign_in_email
from punchcard.web.security import WebSession

router = APIRouter()
PENDING = "pending"
BROWSER = "browser"  # this browser's nonce: the codes it asks for are its own


def _program_id(session: WebSession, db: Database, asked: str | None) -> int:
    """The program of the store's link (`?program=`), else the one chosen earlier in this
    session, else the only program there is."""
    if asked is not None:
        if not asked.isdigit() or len(asked) > 18:
            raise _no_program()
        chosen = int(asked)
    elif isinstance(session.data.get(VISIT), int):
        chosen = int(session.data[VISIT])
    else:
        with db.reader() as reading:
            found = queries.program_ids(reading)
        if len(found) != 1:
            raise _no_program()
        chosen = found[0]
    try:
        with db.reader() as reading:
            programs.get_program(reading, chosen)
    except NotFoundError:
        raise _no_program() from None
    if session.data.get(VISIT) != chosen:
        session.data = {**session.data, VISIT: chosen}
        session.fresh = True
    return chosen


def _no_program() -> WebError:
    return WebError(
        404,
        i18n.gettext("Which store?"),
        i18n.gettext(
            "We could not tell which store's loyalty program you want. Please open the "
            "portal from the link on your store's website or receipt."
        ),
    )


@router.get("/sign-in")
def sign_in_form(
    request: Request, session: Session, db: Db, program: str | None = None
) -> Response:
    if session.subject is not None:
        return see_other("/portal/")
    program_id = _program_id(session, db, program)
    return page(request, session, "sign_in.html", {"program_id": program_id, "error": None})


def _find(
    reading: DbSession, program_id: int, identifier: str
) -> tuple[str, str, MemberRow | None]:
    """("email" or "card", the normalised identifier, the member or None). IdentifierError
    when it is neither a valid e-mail address nor a valid card number."""
    text = identifier.strip()
    if "@" in text:
        email = normalise_email(text)
        member_id = queries.member_id_by_email(reading, program_id, email)
        found = (
            None
            if member_id is None
            else members.get(reading, program_id=program_id, member_id=member_id)
        )
        return "email", email, found
    digits = "".join(text.replace("-", " ").split())
    if not digits.isdigit() or not 8 <= len(digits) <= 20 or not luhn.is_valid(digits):
        raise IdentifierError("card")
    rows = members.search(
        reading, program_id=program_id, filters={"card_number": digits}, after_id=0, limit=1
    )
    return "card", digits, rows[0] if rows else None


@router.post("/sign-in", dependencies=[Csrf])
def send_code(
    request: Request,
    session: Session,
    db: Db,
    settings: AppSettings,
    now: Now,
    identifier: Annotated[str, Form(max_length=320)],
    program: Annotated[str, Form(max_length=20)],
) -> Response:
    program_id = _program_id(session, db, program)
    browser = session.data.get(BROWSER)
    if not isinstance(browser, str) or not browser:
        browser = codes.new_nonce()
    sent_to_nobody = False
    try:
        with session_scope(db.writer) as writing:
            via, value, member = _find(writing, program_id, identifier)
            if member is not None and member.email:
                _send(writing, settings, program_id, member, browser, now)
            sent_to_nobody = via == "card" and member is not None and not member.email
    except IdentifierError:
        error = i18n.gettext("Enter your e-mail address or the number on your card.")
        context = {"program_id": program_id, "error": error, "identifier": identifier}
        return page(request, session, "sign_in.html", context, status_code=400)
    outbox.deliver(db, transport=settings.mail_transport, now=now)
    if sent_to_nobody:
        return page(request, session, "sign_in_no_email.html", {}, status_code=409)
    asked = {"via": via, "id": value, "tries": 0, "at": micros(now)}
    session.data = {**session.data, BROWSER: browser, PENDING: asked}
    session.fresh = True
    return see_other("/portal/sign-in/code")


def _send(
    writing: DbSession,
    settings: Settings,
    program_id: int,
    member: MemberRow,
    browser: str,
    now: datetime,
) -> None:
    code = codes.issue(writing, settings, member_id=member.id, browser=browser, now=now)
    if code is None or member.email is None:
        return
    program = programs.get_program(writing, program_id)
    locale = i18n.supported(member.locale) or i18n.current().locale
    subject, body = sign_in_email(
        i18n.Translator(locale),
        program=program.name,
        code=code,
        minutes=settings.login_code_minutes,
    )
    outbox.enqueue_email(
        writing,
        program_id=program_id,
        recipient=member.email,
        subject=subject,
        body=body,
        locale=locale,
        now=now,
    )


def _pending(session: WebSession) -> dict[str, Any] | None:
    found = session.data.get(PENDING)
    ok = (
        isinstance(found, dict)
        and found.get("via") in ("email", "card")
        and isinstance(found.get("tries"), int)
        and isinstance(found.get("at"), int)
        and isinstance(session.data.get(BROWSER), str)
    )
    return found if ok and isinstance(session.data.get(VISIT), int) else None


@router.get("/sign-in/code")
def code_form(request: Request, session: Session) -> Response:
    pending = _pending(session)
    if pending is None:
        return see_other("/portal/sign-in")
    return page(request, session, "sign_in_code.html", {"pending": pending, "error": None})


@router.post("/sign-in/code", dependencies=[Csrf])
def check_code(
    request: Request,
    session: Session,
    db: Db,
    settings: AppSettings,
    now: Now,
    code: Annotated[str, Form(max_length=40)],
) -> Response:
    pending = _pending(session)
    if pending is None:
        return see_other("/portal/sign-in")
    typed = "".join(code.split())
    if not codes.well_formed(typed):
        error = i18n.gettext("The code is the 6 digits in the e-mail we sent you.")
        context = {"pending": pending, "error": error}
        return page(request, session, "sign_in_code.html", context, status_code=400)
    program_id = int(session.data[VISIT])
    tries = int(pending["tries"])
    lifetime = timedelta(minutes=settings.login_code_minutes) // timedelta(microseconds=1)
    if micros(now) >= int(pending["at"]) + lifetime:
        return _refused(request, session, pending, codes.Check(Outcome.EXPIRED))
    if tries >= codes.MAX_ATTEMPTS:
        return _refused(request, session, pending, codes.Check(Outcome.LOCKED))
    result: codes.Check | None = None
    with session_scope(db.writer) as writing:
        member = _member(writing, program_id, pending)
        if member is not None:
            result = codes.check(
                writing,
                settings,
                member_id=member.id,
                browser=str(session.data[BROWSER]),
                code=typed,
                now=now,
            )
    if result is not None and result.outcome is Outcome.OK and member is not None:
        extra = {"locale": member.locale} if i18n.supported(member.locale) else {}
        data = {VISIT: program_id, SIGNED_IN_AT: micros(now), **extra}
        session.sign_in(member.id, program_id=program_id, **data)
        return see_other("/portal/")
    if result is None or not result.matched:
        # Not the code (or nobody's): the same answer for a member and a stranger.
        tries += 1
        remaining = codes.MAX_ATTEMPTS - tries
        wrong = codes.Check(Outcome.WRONG, remaining)
        result = wrong if remaining > 0 else codes.Check(Outcome.LOCKED)
        pending = {**pending, "tries": tries}
    return _refused(request, session, pending, result)


def _member(writing: DbSession, program_id: int, pending: dict[str, Any]) -> MemberRow | None:
    value = str(pending.get("id", ""))
    if pending["via"] == "email":
        member_id = queries.member_id_by_email(writing, program_id, value)
        if member_id is None:
            return None
        return members.get(writing, program_id=program_id, member_id=member_id)
    rows = members.search(
        writing, program_id=program_id, filters={"card_number": value}, after_id=0, limit=1
    )
    return rows[0] if rows else None


def _refused(
    request: Request, session: WebSession, pending: dict[str, Any], result: codes.Check
) -> Response:
    if result.outcome is Outcome.WRONG:
        session.data = {**session.data, PENDING: pending}
        session.fresh = True
        error = i18n.ngettext(
            "That code is not right. You can try %(num)s more time.",
            "That code is not right. You can try %(num)s more times.",
            result.remaining,
        )
        context = {"pending": pending, "error": error}
        return page(request, session, "sign_in_code.html", context, status_code=400)
    messages = {
        Outcome.EXPIRED: i18n.gettext("This code has expired."),
        Outcome.USED: i18n.gettext("This code has already been used."),
        Outcome.LOCKED: i18n.gettext("This code was entered wrongly too many times."),
    }
    session.data = {k: v for k, v in session.data.items() if k != PENDING}
    session.fresh = True
    context = {"reason": messages[result.outcome]}
    return page(request, session, "sign_in_again.html", context, status_code=400)


@router.post("/sign-out", dependencies=[Csrf])
def sign_out(session: Session, db: Db, now: Now) -> Response:
    """Every session of the member signed in until now ends (a copy of this cookie too).
    Signed out, the session still knows the store, so signing in again needs no link."""
    program_id = session.data.get("program_id")
    if isinstance(program_id, int) and session.subject is not None:
        with session_scope(db.writer) as writing:
            queries.end_sessions(writing, program_id, session.subject, now)
    session.sign_out()
    if isinstance(program_id, int):
        session.data = {VISIT: program_id}
    return see_other("/portal/sign-in")
