"""/v1/rules: the program's rule set, versioned, and a validator that points at each problem."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.rules import service

router = APIRouter(prefix="/v1/rules", tags=["rules"])

RuleSetBody = Body(
    description='The rule set: `{"rules": [...]}`; see docs/rules.md.',
    examples=[
        {
            "rules": [
                {
                    "id": "base",
                    "events": ["order.placed"],
                    "effect": {"type": "per_currency_unit", "points": 1},
                }
            ]
        }
    ],
)


class RulesOut(BaseModel):
    version: int = Field(description="0 is the default set of a program that never set one.")
    rules: list[dict[str, Any]]


class RuleProblem(BaseModel):
    path: str = Field(examples=["rules[1].effect.points"])
    message: str


class ValidationOut(BaseModel):
    valid: bool
    errors: list[RuleProblem]


class _Raw(BaseModel):
    body: dict[str, Any]


@router.get("", response_model=RulesOut, responses=errors(403))
def get_rules(who: Reader, db: DbDep) -> RulesOut:
    with db.reader() as session:
        current = service.in_force(session, who.program_id)
    return RulesOut(version=current.version, rules=current.body["rules"])


@router.put("", response_model=RulesOut, responses=errors(400, 403, 409))
def put_rules(
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    body: dict[str, Any] = RuleSetBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Replace the rule set: a new version, in force for events from now on. 422
    `invalid_rules` lists every problem with its path."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        version = service.replace(session, program_id=who.program_id, body=body, now=now)
        return 200, RulesOut(version=version, rules=body["rules"])

    response = run_write(request, db, who, now, _Raw(body=body), handler, idempotency_key)
    db.caches.forget(("rules", who.program_id))
    return response


@router.post("/validate", response_model=ValidationOut, responses=errors(400, 403))
def validate_rules(who: Reader, body: dict[str, Any] = RuleSetBody) -> ValidationOut:
    """Check a rule set without saving it."""
    problems = service.check(body)
    return ValidationOut(valid=not problems, errors=[RuleProblem(**p) for p in problems])
