"""Challenges and badges: their lists, a new one from its JSON definition (the API's body,
checked by the API's schema and the feature's service, errors shown in place), and switching
each on or off. After every change the process forgets which features the program has set
up, as the API does, so the next event is routed by the new settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session as DbSession
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.badges import service as badges
from punchcard.badges.schemas import BadgeCreate
from punchcard.challenges import service as challenges
from punchcard.challenges.schemas import ChallengeCreate
from punchcard.db import Database, session_scope
from punchcard.engagement import hooks
from punchcard.errors import PunchcardError
from punchcard.programs.domain import ProgramSettings
from punchcard.web import i18n
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Program, not_found
from punchcard.web.admin.once import Once
from punchcard.web.admin.views import (
    JsonTextError,
    Problem,
    details_problems,
    parse_json,
    pretty,
    pydantic_problems,
    redirect,
    view,
)
from punchcard.web.deps import Csrf, Db, Now, Session

router = APIRouter()
LIMIT = 200
BADGE_EXAMPLE = {"name": "First order", "criteria": {"kind": "order_count", "count": 1}}
CHALLENGE_EXAMPLE = {
    "name": "Three reviews",
    "steps": [{"events": ["review.submitted"], "target": 3}],
    "reward": {"points": 100},
}


def _page(
    request: Request,
    session: Any,
    program: ProgramSettings,
    db: Database,
    texts: dict[str, str] | None = None,
    problems: dict[str, list[Problem]] | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as read:
        badge_rows = badges.list_badges(
            read, program_id=program.id, after_id=0, limit=LIMIT, active=None
        )
        challenge_rows = challenges.list_challenges(
            read, program_id=program.id, after_id=0, limit=LIMIT, active=None
        )
    texts = {"badge": pretty(BADGE_EXAMPLE), "challenge": pretty(CHALLENGE_EXAMPLE)} | (texts or {})
    return view(
        request,
        session,
        "engagement.html",
        i18n.gettext("Challenges and badges of %(name)s", name=program.name),
        status_code=status,
        program=program,
        badges=badge_rows,
        challenges=challenge_rows,
        texts=texts,
        problems=problems or {},
    )


@router.get("/programs/{program_id}/engagement")
def engagement_page(request: Request, session: Session, program: Program, db: Db) -> Response:
    return _page(request, session, program, db)


def _create(
    db: Database,
    post: Once,
    text: str,
    now: datetime,
    write: Callable[[DbSession, Any], Any],
) -> list[Problem]:
    """Run `write` on the parsed text, once per form (posted twice, it writes once); the
    problems, or [] when it was saved (now or by the form's earlier post)."""
    program_id = post.program_id
    try:
        body = parse_json(text)
        with session_scope(db.writer) as session:
            if not post.already_done(session, what=text, now=now):
                write(session, body)
                post.done(session)
    except JsonTextError as exc:
        return exc.problems
    except ValidationError as exc:
        return pydantic_problems(exc)
    except PunchcardError as exc:
        return details_problems(exc)
    finally:
        hooks.forget(db, program_id)
    return []


@router.post("/programs/{program_id}/badges", dependencies=[Csrf])
def create_badge(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    text = form.get("badge", "")

    def write(write_session: DbSession, raw: Any) -> None:
        fields = BadgeCreate.model_validate(raw).model_dump()
        badges.create_badge(write_session, program_id=program.id, fields=fields, now=now)

    problems = _create(db, Once.of(program.id, "badge", form), text, now, write)
    if not problems:
        return redirect(f"/admin/programs/{program.id}/engagement", "created")
    return _page(request, session, program, db, {"badge": text}, {"badge": problems}, 400)


@router.post("/programs/{program_id}/challenges", dependencies=[Csrf])
def create_challenge(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    text = form.get("challenge", "")

    def write(write_session: DbSession, raw: Any) -> None:
        body = ChallengeCreate.model_validate(raw)
        challenges.create_challenge(write_session, program_id=program.id, body=body, now=now)

    problems = _create(db, Once.of(program.id, "challenge", form), text, now, write)
    if not problems:
        return redirect(f"/admin/programs/{program.id}/engagement", "created")
    return _page(request, session, program, db, {"challenge": text}, {"challenge": problems}, 400)


def _active(form: dict[str, str]) -> bool:
    return form.get("active") == "true"


@router.post("/programs/{program_id}/badges/{badge_id}/active", dependencies=[Csrf])
def switch_badge(badge_id: Id, program: Program, db: Db, now: Now, form: Fields) -> Response:
    with session_scope(db.writer) as write:
        try:
            badges.get_badge(write, program_id=program.id, badge_id=badge_id)
        except PunchcardError:
            raise not_found() from None
        badges.update_badge(
            write,
            program_id=program.id,
            badge_id=badge_id,
            changes={"active": _active(form)},
            now=now,
        )
    hooks.forget(db, program.id)
    return redirect(f"/admin/programs/{program.id}/engagement", "saved")


@router.post("/programs/{program_id}/challenges/{challenge_id}/active", dependencies=[Csrf])
def switch_challenge(
    challenge_id: Id, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    with session_scope(db.writer) as write:
        try:
            challenges.get_challenge(write, program_id=program.id, challenge_id=challenge_id)
        except PunchcardError:
            raise not_found() from None
        challenges.update_challenge(
            write,
            program_id=program.id,
            challenge_id=challenge_id,
            changes={"active": _active(form)},
            now=now,
        )
    hooks.forget(db, program.id)
    return redirect(f"/admin/programs/{program.id}/engagement", "saved")
