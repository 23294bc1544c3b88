"""What the browser pages show when something is refused or goes wrong: a page in the
visitor's language with a title and a plain sentence, the right status, and never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from punchcard.errors import PunchcardError
from punchcard.web import i18n
from punchcard.web.pages import render

log = logging.getLogger("punchcard.web")


class WebError(Exception):
    """A refusal shown as a page: `title` and `message` are already translated."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class SignInRequiredError(Exception):
    """Raised by pages that need a signed-in visitor: they are sent to the sign-in page."""

    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


def install(app: FastAPI, *, layout: str) -> None:
    """HTML error handlers for one interface (`layout`: "portal" or "admin")."""
    template = f"{layout}/error.html"

    def page(request: Request, status: int, title: str, message: str) -> Response:
        session = getattr(request.state, "web_session", None)
        return render(
            request,
            template,
            {"title": title, "message": message, "status": status},
            status_code=status,
            session=session,
        )

    @app.exception_handler(WebError)
    async def _web(request: Request, exc: WebError) -> Response:
        return page(request, exc.status, exc.title, exc.message)

    @app.exception_handler(SignInRequiredError)
    async def _sign_in(request: Request, exc: SignInRequiredError) -> Response:
        return RedirectResponse(exc.to, status_code=303)

    @app.exception_handler(PunchcardError)
    async def _domain(request: Request, exc: PunchcardError) -> Response:
        return page(request, exc.status, i18n.gettext("That did not work"), exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return page(
            request,
            400,
            i18n.gettext("Something is missing"),
            i18n.gettext(
                "The form was incomplete or had a value we could not read. Please try again."
            ),
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return page(
                request,
                404,
                i18n.gettext("Page not found"),
                i18n.gettext("There is no page at this address."),
            )
        if exc.status_code == 405:
            return page(
                request,
                405,
                i18n.gettext("Not allowed"),
                i18n.gettext("This page cannot be used that way."),
            )
        log.info("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
        return page(
            request,
            exc.status_code,
            i18n.gettext("That did not work"),
            i18n.gettext("This request could not be handled. Please go back and try again."),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable for %s: %s", request.url.path, exc)
        return page(
            request,
            503,
            i18n.gettext("Temporarily unavailable"),
            i18n.gettext("We cannot reach our records right now. Please try again in a minute."),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected(request, layout)


def unexpected(request: Request, layout: str) -> Response:
    """The page for a failure of ours (logged with its traceback, never shown)."""
    log.exception("unexpected error on %s", request.url.path)
    return render(
        request,
        f"{layout}/error.html",
        {
            "title": i18n.gettext("Something went wrong"),
            "message": i18n.gettext(
                "It was our fault, not yours, and it has been logged. Please try again."
            ),
            "status": 500,
        },
        status_code=500,
        session=getattr(request.state, "web_session", None),
    )
