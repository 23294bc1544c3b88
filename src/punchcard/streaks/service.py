"""Streak use cases: definitions, what a qualifying event does, the member's view.
Session first, keyword-only after; never commits.

Conditions are the rules engine's own (parsed by `rules.schemas`, evaluated by
`rules.domain.failed_condition` on the event's facts), so a streak's "orders of 20.00 or
more" means exactly what it means in a rule."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen
from punchcard.engagement.points import award_points, order_window
from punchcard.events.types import CUSTOM, RESERVED, SCHEMAS
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.rules.domain import Conditions
from punchcard.rules.schemas import RuleSetError, parse_rule_set
from punchcard.streaks import domain
from punchcard.streaks import repository as repo
from punchcard.streaks.domain import Bonus, Period, StreakRule, View
from punchcard.streaks.errors import InvalidStreakError, StreakNotFoundError

_COLUMNS = ("name", "description", "period", "events", "conditions", "bonuses", "repeat_every",
            "active")  # fmt: skip
_JSON = ("events", "conditions", "bonuses")
_PREFIX = "rules[0]."


@lru_cache(maxsize=1024)
def _conditions(events: str, conditions: str) -> Conditions:
    """Parsed as a rule's conditions by the rules' own parser; cached by their text."""
    body = {"id": "streak", "events": json.loads(events), "conditions": json.loads(conditions),
            "effect": {"type": "fixed", "points": 1}}  # fmt: skip
    return parse_rule_set({"rules": [body]}).rules[0].conditions


def rule_of(row: Any) -> StreakRule:
    bonuses = tuple(sorted((Bonus(**b) for b in json.loads(row.bonuses)), key=lambda b: b.length))
    return StreakRule(
        id=row.id,
        name=row.name,
        period=Period(row.period),
        events=frozenset(json.loads(row.events)),
        conditions=None if row.conditions is None else _conditions(row.events, row.conditions),
        bonuses=bonuses,
        repeat_every=row.repeat_every,
    )


# --- definitions --------------------------------------------------------------------------


def create_streak(
    session: Session, *, program_id: int, fields: dict[str, Any], now: datetime
) -> Any:
    values = _checked({"bonuses": [], "active": True, **fields})
    streak_id = repo.insert_streak(
        session, {**values, "program_id": program_id, "created_at": now, "updated_at": now}
    )
    return get_streak(session, program_id=program_id, streak_id=streak_id)


def update_streak(
    session: Session, *, program_id: int, streak_id: int, changes: dict[str, Any], now: datetime
) -> Any:
    """Any field but the period; the whole streak is checked again. Members' runs carry on
    under the new settings (a bonus length already passed is not paid after the fact)."""
    row = get_streak(session, program_id=program_id, streak_id=streak_id)
    if changes.get("period") is not None and changes["period"] != row.period:
        raise InvalidStreakError(
            "a streak's period cannot change: retire it and create another",
            details={"field": "period"},
        )
    current = {c: getattr(row, c) for c in _COLUMNS}
    current |= {c: None if current[c] is None else json.loads(current[c]) for c in _JSON}
    values = _checked({**current, **changes})
    changed = {k: v for k, v in values.items() if k in changes}
    repo.update_streak(session, program_id, streak_id, {**changed, "updated_at": now})
    return get_streak(session, program_id=program_id, streak_id=streak_id)


def get_streak(session: Session, *, program_id: int, streak_id: int) -> Any:
    row = repo.streak_row(session, program_id, streak_id)
    if row is None:
        raise StreakNotFoundError(f"streak {streak_id} not found", details={"streak_id": streak_id})
    return row


def list_streaks(
    session: Session, *, program_id: int, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    return repo.streak_page(session, program_id, after_id=after_id, limit=limit, active=active)


def configured(session: Session, program_id: int) -> bool:
    return repo.any_active(session, program_id)


def _checked(merged: dict[str, Any]) -> dict[str, Any]:
    """The streak as stored, or 422 `invalid_streak` with the field at fault."""
    events = list(dict.fromkeys(merged["events"]))
    for kind in events:
        known = kind in SCHEMAS or CUSTOM.match(kind) is not None
        if not known or kind.startswith(RESERVED):
            raise InvalidStreakError(
                f"unknown event type {kind!r}",
                details={"field": "events", "known": sorted(SCHEMAS), "custom": "custom.<name>"},
            )
    bonuses = sorted(merged["bonuses"], key=lambda b: b["length"])
    lengths = [b["length"] for b in bonuses]
    if len(set(lengths)) != len(lengths):
        raise InvalidStreakError("two bonuses for the same length", details={"field": "bonuses"})
    if merged.get("repeat_every") is not None and not bonuses:
        raise InvalidStreakError(
            "repeat_every repeats the last bonus: list at least one",
            details={"field": "repeat_every"},
        )
    conditions = merged.get("conditions")
    stored = {**{c: merged.get(c) for c in _COLUMNS}, "events": events, "bonuses": bonuses}
    text = {c: None if stored[c] is None else _json(stored[c]) for c in _JSON}
    if conditions is not None:
        _check_conditions(str(text["events"]), str(text["conditions"]))
    return {**stored, **text}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _check_conditions(events: str, conditions: str) -> None:
    try:
        _conditions(events, conditions)
    except RuleSetError as exc:
        problems = [
            {"path": e["path"].removeprefix(_PREFIX), "message": e["message"]} for e in exc.errors
        ]
        raise InvalidStreakError(
            f"{problems[0]['path']}: {problems[0]['message']}",
            details={"field": "conditions", "errors": problems},
        ) from exc


# --- events and members -------------------------------------------------------------------


def on_event(session: Session, seen: EventSeen) -> int:
    """Move the member's streaks this event qualifies for; bonus points paid. Statements:
    the active streaks, then (only if one qualifies) the lock, the states, and a write per
    streak moved."""
    program_id, member_id = seen.program.id, seen.member_id
    rules = [rule_of(r) for r in repo.active_streaks(session, program_id)]
    matching = [r for r in rules if r.qualifies(seen.type, seen.facts)]
    if not matching:
        return 0
    ledger.lock(session, program_id, member_id)
    states = repo.states(session, program_id, member_id, [r.id for r in matching])
    paid = 0
    for rule in matching:
        before = states.get(rule.id)
        step = domain.advance(rule, before, seen.occurred_at)
        if step is None:
            continue
        if not repo.save_state(session, program_id, member_id, rule.id, before=before,
                               after=step.state, now=seen.now):  # fmt: skip
            continue  # another transaction moved it first
        if step.bonus and repo.claim_bonus(
            session, program_id, member_id, rule.id, period=step.period,
            length=step.state.length, points=step.bonus, now=seen.now,
        ):  # fmt: skip
            award_points(
                session,
                program=seen.program,
                member_id=member_id,
                points=step.bonus,
                reason="streak",
                reference=f"streak:{rule.id}:{member_id}:{step.period.date().isoformat()}",
                occurred_at=seen.occurred_at,
                now=seen.now,
                pending_days=order_window(seen),
                meta={"streak_id": rule.id, "length": step.state.length},
            )
            paid += step.bonus
    return paid


def member_streaks(
    session: Session, *, program_id: int, member_id: int, now: datetime
) -> list[tuple[Any, View]]:
    """Every active streak with where the member stands in it now. Unknown member: 404."""
    members.get(session, program_id=program_id, member_id=member_id)
    rows = repo.active_streaks(session, program_id)
    states = repo.states(session, program_id, member_id, [r.id for r in rows])
    return [(r, domain.view(rule_of(r), states.get(r.id), now)) for r in rows]
