"""What every console page but sign-in needs: a signed-in admin (else the sign-in page) and,
under /admin/programs/<id>/, the program named in the address (else a 404 page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

from punchcard.api.params import Id
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from punchcard.programs.service import ProgramNotFoundError
from punchcard.web import i18n
from punchcard.web.admin import users
from punchcard.web.deps import Db, Session
from punchcard.web.errors import SignInRequiredError, WebError
from punchcard.web.security import WebSession

SIGN_IN = "/admin/sign-in"


def signed_in(session: Session, db: Db) -> users.AdminView:
    """The admin the cookie names, looked up on every request, so a deleted admin is out,
    and so is a session signed in before the admin's last sign-out, lock or new password."""
    if session.subject is None:
        raise SignInRequiredError(SIGN_IN)
    with db.reader() as read:
        admin = users.get_user(read, session.subject)
    if admin is None or not users.session_valid(admin, signed_in_at(session)):
        session.sign_out()
        raise SignInRequiredError(SIGN_IN)
    return admin


def signed_in_at(session: WebSession) -> datetime | None:
    """The sign-in date the session keeps (`at`, ISO 8601 to the microsecond), if any."""
    raw = session.data.get("at")
    if not isinstance(raw, str):
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def start(session: WebSession, admin_id: int, at: datetime) -> None:
    """Sign the browser in, dated for `signed_in`."""
    session.sign_in(admin_id, at=at.astimezone(UTC).isoformat())


Admin = Annotated[users.AdminView, Depends(signed_in)]


def not_found() -> WebError:
    return WebError(
        404, i18n.gettext("Not found"), i18n.gettext("There is nothing here with that number.")
    )


def program_of(program_id: Id, admin: Admin, db: Db) -> ProgramSettings:
    """Admins run every program (no per-program roles yet); an unknown id is a 404 page."""
    with db.reader() as read:
        try:
            return programs.get_program(read, program_id)
        except ProgramNotFoundError:
            raise not_found() from None


Program = Annotated[ProgramSettings, Depends(program_of)]
