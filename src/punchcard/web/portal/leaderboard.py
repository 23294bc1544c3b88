"""Leaderboards: the member's choice to appear (and under which name), and the boards with
where the member stands. Only display names are ever shown, never who is behind them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.leaderboards import service as leaderboards
from punchcard.leaderboards.domain import DISPLAY_MAX, DISPLAY_MIN, Period
from punchcard.leaderboards.errors import DisplayNameInvalidError, DisplayNameRequiredError
from punchcard.web import i18n
from punchcard.web.deps import Csrf, Db, Now, Session
from punchcard.web.portal.common import Portal, page, see_other, signed_in
from punchcard.web.security import WebSession

router = APIRouter()
TOP = 10
MAX_BOARDS = 10


def _period(period: Period) -> str:
    _ = i18n.gettext
    return {Period.WEEK: _("This week"), Period.MONTH: _("This month")}.get(period, _("All time"))


def _boards(db: Db, portal: Portal, now: Now) -> list[dict[str, Any]]:
    shown = []
    with db.reader() as reading:
        boards = leaderboards.list_boards(
            reading, program_id=portal.program_id, after_id=0, limit=MAX_BOARDS, active=True
        )
        for board in boards:
            table = leaderboards.standings(
                reading, program_id=portal.program_id, board_id=board.id, top=TOP,
                period_key=None, now=now,
            )  # fmt: skip
            rank = leaderboards.member_rank(
                reading, program_id=portal.program_id, board_id=board.id,
                member_id=portal.member.id, period_key=None, now=now,
            )  # fmt: skip
            shown.append(
                {
                    "board": board,
                    "period": _period(board.period),
                    "entries": table.entries,
                    "rank": rank,
                }
            )
    return shown


def _render(
    request: Request, session: WebSession, db: Db, now: Now, *, error: str | None = None,
    typed: str | None = None,
) -> Response:  # fmt: skip
    portal = signed_in(session, db)
    with db.reader() as reading:
        profile = leaderboards.get_profile(
            reading, program_id=portal.program_id, member_id=portal.member.id
        )
    context = {
        "profile": profile,
        "boards": _boards(db, portal, now),
        "error": error,
        "typed": typed if typed is not None else (profile.display_name or ""),
        "name_min": DISPLAY_MIN,
        "name_max": DISPLAY_MAX,
    }
    status = 200 if error is None else 400
    return page(request, session, "leaderboards.html", context, portal=portal, status_code=status)


@router.get("/leaderboards")
def boards(request: Request, session: Session, db: Db, now: Now) -> Response:
    return _render(request, session, db, now)


def _name_error(exc: Exception) -> str:
    _ = i18n.gettext
    if isinstance(exc, DisplayNameRequiredError):
        return _("Choose a display name to appear on leaderboards.")
    reason = getattr(exc, "details", {}).get("reason")
    return {
        "characters": _("A display name cannot hold control or invisible characters."),
        "email": _("A display name cannot be an e-mail address."),
        "phone": _("A display name cannot be a phone number."),
    }.get(
        str(reason),
        _("A display name has %(min)s to %(max)s characters.", min=DISPLAY_MIN, max=DISPLAY_MAX),
    )


@router.post("/leaderboards/profile", dependencies=[Csrf])
def save_profile(
    request: Request,
    session: Session,
    db: Db,
    now: Now,
    display_name: Annotated[str, Form(max_length=200)] = "",
    opted_in: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    portal = signed_in(session, db)
    name = display_name.strip() or None
    try:
        with session_scope(db.writer) as writing:
            leaderboards.put_profile(
                writing,
                program_id=portal.program_id,
                member_id=portal.member.id,
                display_name=name,
                opted_in=opted_in == "yes",
                now=now,
            )
    except (DisplayNameInvalidError, DisplayNameRequiredError) as exc:
        return _render(request, session, db, now, error=_name_error(exc), typed=display_name)
    return see_other("/portal/leaderboards")
