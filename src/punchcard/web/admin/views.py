"""Helpers every console page uses: render a page with its title and the program it is
about, send the browser on after a post (post/redirect/get, with a one-word notice in the
address), and read a JSON textarea with errors that say where."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from punchcard.web import i18n
from punchcard.web.admin.jsonlines import line_of
from punchcard.web.admin.once import new_nonce
from punchcard.web.pages import render
from punchcard.web.security import WebSession


def _notes() -> dict[str, str]:
    _ = i18n.gettext
    return {
        "saved": _("Saved."),
        "created": _("Created."),
        "adjusted": _("The adjustment was recorded."),
        "approved": _("The referral was approved."),
        "rejected": _("The referral was rejected."),
        "signed-out": _("You are signed out."),
    }


def view(
    request: Request,
    session: WebSession,
    template: str,
    title: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A console page; `?note=<word>` after a redirect shows what the last post did, and
    `once` is a fresh nonce for the page's one-time forms (see once.py)."""
    note = _notes().get(request.query_params.get("note", ""))
    values = {"title": title, "note": note, "json_line": line_of, "once": new_nonce(), **context}
    return render(request, f"admin/{template}", values, status_code=status_code, session=session)


def redirect(url: str, note: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"{url}?note={note}" if note else url, status_code=303)


@dataclass(frozen=True)
class Problem:
    """One error of a JSON textarea: where (a JSON path; empty for a syntax error), what, and
    for a syntax error its line (a path's line is found when the page is drawn)."""

    where: str
    message: str
    line: int | None = None


MAX_JSON = 200_000  # characters: far more than any definition, far less than a flood


class JsonTextError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.where}: {p.message}" for p in problems))
        self.problems = problems


def parse_json(text: str, *, want: type = dict) -> Any:
    """The textarea's JSON, or JsonTextError with the line and column of the syntax error;
    text over MAX_JSON characters, or nested too deep to read, is refused the same way."""
    if len(text) > MAX_JSON:
        message = i18n.gettext(
            "The text is too long: at most %(max)s characters.", max=f"{MAX_JSON:,}"
        )
        raise JsonTextError([Problem("", message)])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        message = i18n.gettext("%(error)s (column %(column)s)", error=exc.msg, column=exc.colno)
        raise JsonTextError([Problem("", message, exc.lineno)]) from None
    except RecursionError:
        message = i18n.gettext("The JSON is nested too deeply.")
        raise JsonTextError([Problem("", message)]) from None
    if not isinstance(value, want):
        kind = i18n.gettext("an object {...}") if want is dict else i18n.gettext("a list [...]")
        raise JsonTextError([Problem("$", i18n.gettext("must be %(kind)s", kind=kind))])
    return value


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def pydantic_problems(exc: Any) -> list[Problem]:
    """A pydantic ValidationError's errors, each with its dotted path."""
    found = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "$"
        found.append(Problem(path, str(error["msg"]).removeprefix("Value error, ")))
    return found


def details_problems(exc: Any) -> list[Problem]:
    """A PunchcardError's problems: its `details.errors` list when it has one, else the field
    it names (or the whole body) with its message."""
    details = getattr(exc, "details", None) or {}
    listed = details.get("errors") if isinstance(details, dict) else None
    if isinstance(listed, list) and listed:
        return [Problem(str(p.get("path", "$")), str(p.get("message", ""))) for p in listed]
    field = details.get("field") if isinstance(details, dict) else None
    return [Problem(str(field or "$"), str(getattr(exc, "message", exc)))]
