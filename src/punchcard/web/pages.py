"""Rendering the pages: one Jinja2 environment for the portal and the admin console, with the
request's language, formatting and CSRF token in every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from punchcard.web import i18n
from punchcard.web.security import WebSession

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.add_extension("jinja2.ext.i18n")
# `_`, `gettext` and `{% trans %}` use the request's translator (a ContextVar); newstyle
# gettext escapes the values it formats in and checks the placeholders.
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.template_gettext, i18n.template_ngettext, newstyle=True
)
TEMPLATES.env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    session: WebSession | None = None,
) -> HTMLResponse:
    """The page, in the language already chosen for this request (`i18n.use`)."""
    translator = i18n.current()
    values: dict[str, Any] = {
        "t": translator,
        "locale": translator.locale,
        "csrf": session.csrf if session is not None else "",
        "session": session,
    }
    values.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Content-Language"] = translator.locale
    response.headers["Cache-Control"] = "no-store"
    return response
