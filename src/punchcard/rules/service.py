"""Rule set use cases: the version in force (parsed once per process), new versions, checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from punchcard.errors import InvalidInputError
from punchcard.rules import repository as repo
from punchcard.rules.domain import RuleSet
from punchcard.rules.schemas import DEFAULT_RULE_SET, RuleSetError, parse_rule_set

DEFAULT_VERSION = 0


class InvalidRulesError(InvalidInputError):
    code = "invalid_rules"


@dataclass(frozen=True)
class RulesInForce:
    version: int
    rules: RuleSet
    body: dict[str, Any]


@lru_cache(maxsize=1024)
def _parsed(body: str) -> RuleSet:
    """Rule sets are immutable per version, so parsing is cached by their text."""
    return parse_rule_set(json.loads(body))


_DEFAULT_TEXT = json.dumps(DEFAULT_RULE_SET, sort_keys=True)


def in_force(session: Session, program_id: int) -> RulesInForce:
    """The newest version, or the default set (version 0) for a program that never set one."""
    found = repo.latest(session, program_id)
    version, text = found if found is not None else (DEFAULT_VERSION, _DEFAULT_TEXT)
    return RulesInForce(version, _parsed(text), json.loads(text))


def version_body(session: Session, program_id: int, version: int) -> dict[str, Any] | None:
    if version == DEFAULT_VERSION:
        return json.loads(_DEFAULT_TEXT)  # type: ignore[no-any-return]
    text = repo.body_of(session, program_id, version)
    return None if text is None else json.loads(text)


def check(body: object) -> list[dict[str, str]]:
    try:
        parse_rule_set(body)
    except RuleSetError as exc:
        return exc.errors
    return []


def replace(session: Session, *, program_id: int, body: dict[str, Any], now: datetime) -> int:
    errors = check(body)
    if errors:
        raise InvalidRulesError(
            f"the rule set has {len(errors)} problem(s); first: {errors[0]['path']}: "
            f"{errors[0]['message']}",
            details={"errors": errors},
        )
    return repo.add_version(session, program_id, json.dumps(body, sort_keys=True), now)
