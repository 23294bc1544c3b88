"""The tier policy: shown as a table and as JSON (the body of PUT /v1/tiers), saved through
the tiers service, which refuses a ladder that drops a tier members hold."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.errors import PunchcardError
from punchcard.programs.domain import ProgramSettings
from punchcard.tiers import service as tiers
from punchcard.tiers.domain import Policy
from punchcard.tiers.schemas import PolicyIn
from punchcard.web import i18n
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Program
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

EXAMPLE: dict[str, Any] = {
    "metric": "points",
    "window": "rolling_12_months",
    "downgrade": "one_down",
    "grace_days": 0,
    "tiers": [
        {"name": "Member", "threshold": 0},
        {"name": "Gold", "threshold": 1000, "multiplier": "1.5", "perks": ["free shipping"]},
    ],
}


def body_of(policy: Policy) -> dict[str, Any]:
    return {
        "metric": policy.metric.value,
        "window": policy.window.value,
        "downgrade": policy.downgrade.value,
        "grace_days": policy.grace_days,
        "tiers": [
            {
                "name": t.name,
                "threshold": tiers.show(policy, t.threshold),
                "multiplier": str(t.multiplier),
                "perks": list(t.perks),
                "invitation_only": t.invitation_only,
            }
            for t in policy.tiers
        ],
    }


def _page(
    request: Request,
    session: Any,
    program: ProgramSettings,
    policy: Policy | None,
    text: str,
    problems: list[Problem],
    status: int = 200,
) -> Response:
    return view(
        request,
        session,
        "tiers.html",
        i18n.gettext("Tiers of %(name)s", name=program.name),
        status_code=status,
        program=program,
        policy=policy,
        text=text,
        problems=problems,
        show=lambda value: tiers.show(policy, value) if policy else value,
    )


@router.get("/programs/{program_id}/tiers")
def tiers_page(request: Request, session: Session, program: Program, db: Db) -> Response:
    with db.reader() as read:
        policy = tiers.policy_of(read, program.id)
    text = pretty(body_of(policy) if policy else EXAMPLE)
    return _page(request, session, program, policy, text, [])


@router.post("/programs/{program_id}/tiers", dependencies=[Csrf])
def save_tiers(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    text = form.get("policy", "")
    try:
        body = PolicyIn.model_validate(parse_json(text))
        with session_scope(db.writer) as write:
            tiers.replace_policy(write, program_id=program.id, body=body, now=now)
    except JsonTextError as exc:
        problems = exc.problems
    except ValidationError as exc:
        problems = pydantic_problems(exc)
    except PunchcardError as exc:
        problems = details_problems(exc)
        if len(problems) == 1 and problems[0].where == "$":
            problems = [Problem("$", exc.message)]
    else:
        db.caches.forget(("tiers", program.id))
        return redirect(f"/admin/programs/{program.id}/tiers", "saved")
    with db.reader() as read:
        policy = tiers.policy_of(read, program.id)
    return _page(request, session, program, policy, text, problems, 400)
