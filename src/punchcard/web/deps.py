"""What every page handler needs from the request: the session, the CSRF check, the database,
the settings and the clock (shared with the API through the app's state)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from punchcard.config import Settings
from punchcard.db import Database
from punchcard.web import i18n
from punchcard.web.errors import WebError
from punchcard.web.security import WebSession

CSRF_FIELD = "csrf_token"


def web_session(request: Request) -> WebSession:
    session = getattr(request.state, "web_session", None)
    if not isinstance(session, WebSession):  # the middleware always sets it; be safe anyway
        session = WebSession.anonymous()
        request.state.web_session = session
    return session


async def require_csrf(request: Request) -> None:
    """Every form post carries the session's token (`csrf_token`): a post from another site,
    or one without the token, is refused with a page that says why."""
    session = web_session(request)
    form = await request.form()  # parsed once; FastAPI's Form() parameters reuse it
    token = form.get(CSRF_FIELD)
    if not session.token_matches(token if isinstance(token, str) else None):
        raise WebError(
            403,
            i18n.gettext("This form has expired"),
            i18n.gettext(
                "For your security the form could not be accepted. Go back, reload the page "
                "and send it again."
            ),
        )


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def now(request: Request) -> datetime:
    moment: datetime = request.app.state.clock()
    return moment


Session = Annotated[WebSession, Depends(web_session)]
Csrf = Depends(require_csrf)
Db = Annotated[Database, Depends(database)]
AppSettings = Annotated[Settings, Depends(settings)]
Now = Annotated[datetime, Depends(now)]
