"""What every signed-in portal page starts from: the member, their program, and what the
program calls its points in the member's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from punchcard.db import Database
from punchcard.errors import NotFoundError
from punchcard.members import service as members
from punchcard.members.repository import MemberRow
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from punchcard.web import i18n
from punchcard.web.errors import SignInRequiredError, WebError
from punchcard.web.pages import render
from punchcard.web.portal import queries
from punchcard.web.security import WebSession

SIGN_IN = "/portal/sign-in"
# The session's sign-in time, in microseconds since the epoch (see `micros`).
SIGNED_IN_AT = "at"
VISIT = "visit_program"  # the program of the store's link, kept for signing in
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch: exact (no float), so a session and a
    sign-out compare without rounding."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Portal:
    """The signed-in member as the pages see them."""

    member: MemberRow
    program: ProgramSettings
    points_name: str

    @property
    def program_id(self) -> int:
        return self.program.id


def signed_in(session: WebSession, db: Database) -> Portal:
    """The member of this session, or off to the sign-in page (also when the member or the
    program is gone, or the member signed out after this session signed in)."""
    program_id = session.data.get("program_id")
    if session.subject is None or not isinstance(program_id, int):
        raise SignInRequiredError(SIGN_IN)
    try:
        with db.reader() as reading:
            member = members.get(reading, program_id=program_id, member_id=session.subject)
            program = programs.get_program(reading, program_id)
            names = queries.points_names(reading, program_id)
        valid_after = queries.sessions_valid_after(reading, program_id, session.subject)
    except NotFoundError:
        session.sign_out()
        raise SignInRequiredError(SIGN_IN) from None
    if not _still_valid(session, valid_after):
        session.sign_out()
        session.data = {VISIT: program_id}
        raise SignInRequiredError(SIGN_IN)
    name = i18n.points_name(program.points_name, names, i18n.current().locale)
    return Portal(member, program, name)


def _still_valid(session: WebSession, valid_after: datetime | None) -> bool:
    """A session signed in before the member last signed out is over (a copy of its cookie
    included). A sign-in at the very moment of the sign-out counts as after it."""
    if valid_after is None:
        return True
    signed_at = session.data.get(SIGNED_IN_AT)
    return isinstance(signed_at, int) and signed_at >= micros(valid_after)


def page(
    request: Request,
    session: WebSession,
    template: str,
    context: dict[str, Any],
    *,
    portal: Portal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values: dict[str, Any] = {"portal": portal}
    if portal is not None:
        values.update(program=portal.program, points=portal.points_name)
    values.update(context)
    return render(request, f"portal/{template}", values, status_code=status_code, session=session)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(raw: object, default: str = "/portal/") -> str:
    """A "go back to" address only if it is one of the portal's own pages: never another
    site (an open redirect), never a scheme-relative //host."""
    if not isinstance(raw, str) or not raw.startswith("/portal"):
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or "\\" in raw or not parts.path.startswith("/portal"):
        return default
    return raw


def not_found() -> WebError:
    return WebError(
        404,
        i18n.gettext("Page not found"),
        i18n.gettext("There is no page at this address."),
    )
