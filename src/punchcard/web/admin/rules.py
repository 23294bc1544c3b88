"""The rules editor: the program's rule set as JSON, saved as a new version after the rules
service checks it (problems shown beside the text, which is kept as typed), and a dry run of
the text on a sample event that writes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import service as rules
from punchcard.rules.schemas import RuleSetError, parse_rule_set
from punchcard.tiers import service as tiers
from punchcard.web import i18n
from punchcard.web.admin import dryrun
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Program
from punchcard.web.admin.views import JsonTextError, Problem, parse_json, pretty, redirect, view
from punchcard.web.deps import Csrf, Db, Now, Session

router = APIRouter()


def _page(
    request: Request,
    session: Any,
    program: ProgramSettings,
    *,
    version: int,
    rules_text: str,
    event_text: str,
    problems: list[Problem] | None = None,
    event_problems: list[Problem] | None = None,
    result: Any = None,
    status: int = 200,
) -> Response:
    return view(
        request,
        session,
        "rules.html",
        i18n.gettext("Rules of %(name)s", name=program.name),
        status_code=status,
        program=program,
        version=version,
        rules_text=rules_text,
        event_text=event_text,
        problems=problems or [],
        event_problems=event_problems or [],
        result=result,
    )


def _version(db: Any, program_id: int) -> int:
    with db.reader() as read:
        return rules.in_force(read, program_id).version


@router.get("/programs/{program_id}/rules")
def rules_page(request: Request, session: Session, program: Program, db: Db, now: Now) -> Response:
    with db.reader() as read:
        current = rules.in_force(read, program.id)
    return _page(
        request,
        session,
        program,
        version=current.version,
        rules_text=pretty(current.body),
        event_text=pretty(dryrun.sample_event(now)),
    )


def _checked(text: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The rule set, or the problems the rules service finds in it (with their paths)."""
    try:
        body = parse_json(text)
    except JsonTextError as exc:
        return None, exc.problems
    found = rules.check(body)
    return (None, [Problem(p["path"], p["message"]) for p in found]) if found else (body, [])


@router.post("/programs/{program_id}/rules", dependencies=[Csrf])
def save_rules(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    text = form.get("rules", "")
    body, problems = _checked(text)
    if body is None:
        return _page(
            request,
            session,
            program,
            version=_version(db, program.id),
            rules_text=text,
            event_text=form.get("event", ""),
            problems=problems,
            status=400,
        )
    with session_scope(db.writer) as write:
        rules.replace(write, program_id=program.id, body=body, now=now)
    db.caches.forget(("rules", program.id))
    return redirect(f"/admin/programs/{program.id}/rules", "saved")


def _multiplier(db: Any, program_id: int) -> Any:
    with db.reader() as read:
        policy = tiers.policy_of(read, program_id)
    return None if policy is None else (lambda name: tiers.multiplier_of(policy, name))


@router.post("/programs/{program_id}/rules/dry-run", dependencies=[Csrf])
def dry_run(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    """Evaluate the text in the editor (saved or not) on the sample event."""
    text, event_text = form.get("rules", ""), form.get("event", "")
    body, problems = _checked(text)
    event_problems: list[Problem] = []
    result = None
    try:
        sample = parse_json(event_text)
    except JsonTextError as exc:
        event_problems = exc.problems
        sample = None
    if body is not None and sample is not None:
        try:
            ruleset = parse_rule_set(body)
            result = dryrun.run(ruleset, sample, _multiplier(db, program.id))
        except RuleSetError as exc:  # checked above; kept for safety
            problems = [Problem(p["path"], p["message"]) for p in exc.errors]
        except JsonTextError as exc:
            event_problems = exc.problems
    return _page(
        request,
        session,
        program,
        version=_version(db, program.id),
        rules_text=text,
        event_text=event_text,
        problems=problems,
        event_problems=event_problems,
        result=result[0] if result else None,
        status=400 if problems or event_problems else 200,
    )
