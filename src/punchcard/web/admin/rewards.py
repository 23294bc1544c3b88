"""Rewards and their stock: the catalog, a new reward (the JSON body of POST /v1/rewards),
and the stock and active switch of each reward, all through the rewards service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.db import session_scope
from punchcard.errors import PunchcardError
from punchcard.programs.domain import ProgramSettings
from punchcard.rewards import service as rewards
from punchcard.rewards.schemas import MAX_INT, RewardCreate
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
from punchcard.web.errors import WebError

router = APIRouter()
LIMIT = 200
EXAMPLE = {"name": "5 off", "type": "discount_amount", "points_cost": 500, "value": "5.00"}


def _page(
    request: Request,
    session: Any,
    program: ProgramSettings,
    db: Any,
    text: str,
    problems: list[Problem],
    status: int = 200,
) -> Response:
    with db.reader() as read:
        found = rewards.list_rewards(read, program_id=program.id, after_id=0, limit=LIMIT)
    return view(
        request,
        session,
        "rewards.html",
        i18n.gettext("Rewards of %(name)s", name=program.name),
        status_code=status,
        program=program,
        rewards=[r.row for r in found],
        remaining={r.row.id: r.remaining for r in found},
        text=text,
        problems=problems,
    )


@router.get("/programs/{program_id}/rewards")
def rewards_page(request: Request, session: Session, program: Program, db: Db) -> Response:
    return _page(request, session, program, db, pretty(EXAMPLE), [])


@router.post("/programs/{program_id}/rewards", dependencies=[Csrf])
def create_reward(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    """A new reward; the form's nonce makes it one-time (posted twice, one reward)."""
    text = form.get("reward", "")
    try:
        body = RewardCreate.model_validate(parse_json(text))
        post = Once.of(program.id, "reward", form)
        with session_scope(db.writer) as write:
            if not post.already_done(write, what=text, now=now):
                rewards.create_reward(
                    write, program_id=program.id, fields=body.model_dump(), now=now
                )
                post.done(write)
    except JsonTextError as exc:
        problems = exc.problems
    except ValidationError as exc:
        problems = pydantic_problems(exc)
    except PunchcardError as exc:
        problems = details_problems(exc)
    else:
        return redirect(f"/admin/programs/{program.id}/rewards", "created")
    return _page(request, session, program, db, text, problems, 400)


def _stock(text: str) -> int | None:
    """Empty: unlimited; otherwise a whole number from 0 to MAX_INT (the column's range)."""
    if not text.strip():
        return None
    try:
        value = int(text.strip()) if len(text.strip()) <= 20 else -1
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_INT:
        raise WebError(
            400,
            i18n.gettext("Stock not changed"),
            i18n.gettext(
                "Stock must be a whole number from 0 to %(max)s, or empty for unlimited.",
                max=MAX_INT,
            ),
        )
    return value


@router.post("/programs/{program_id}/rewards/{reward_id}", dependencies=[Csrf])
def update_reward(
    reward_id: Id, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    """The stock and whether the reward is offered; stock below what was claimed is refused
    by the service (a page says so)."""
    changes = {"stock": _stock(form.get("stock", "")), "active": form.get("active") == "on"}
    with session_scope(db.writer) as write:
        try:
            rewards.get_reward(write, program_id=program.id, reward_id=reward_id)
        except PunchcardError:
            raise not_found() from None
        rewards.update_reward(
            write, program_id=program.id, reward_id=reward_id, changes=changes, now=now
        )
    return redirect(f"/admin/programs/{program.id}/rewards", "saved")
