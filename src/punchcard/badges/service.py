"""Badge use cases: definitions, awards (once per member, points only with the award) and the
member's view. Session first, keyword-only after; never commits.

Every award goes through `_grant`: one INSERT ... ON CONFLICT DO NOTHING for all the badges
at hand, and bonus points only for the rows that statement actually inserted, so neither a
replayed event, nor the job, nor two transactions at once can give a badge or its points
twice. Awards are never taken back: a refund lowers the member's order count (a fully
refunded or cancelled order no longer counts), not their badges; the points of a badge an
order earned wait for that order's return window, but a later refund does not void them.

An event's counts are the member's rows dated at or before it (same moment: written before
it), so a batch, whose rows are all written before its events are handed to the badges in
time order, awards a badge to the same event as sending the events one by one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.badges import domain
from punchcard.badges import repository as repo
from punchcard.badges.domain import Criteria, Definition, Kind, MemberFacts, Needs, Progress
from punchcard.badges.errors import (
    BadgeInactiveError,
    BadgeNotFoundError,
    InvalidBadgeError,
    UnknownTierError,
)
from punchcard.engagement.context import EventSeen
from punchcard.engagement.points import award_points, order_window
from punchcard.events.types import CUSTOM, RESERVED, SCHEMAS
from punchcard.ledger import service as ledger
from punchcard.ledger.errors import MemberNotFoundError
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings

_COLUMNS = ("name", "description", "image_url", "points", "active")


def definition_of(row: Any) -> Definition:
    return Definition(row.id, row.name, Criteria.of(json.loads(row.criteria)), row.points)


# --- definitions --------------------------------------------------------------------------


def create_badge(
    session: Session, *, program_id: int, fields: dict[str, Any], now: datetime
) -> Any:
    criteria = _checked(session, program_id, fields["criteria"])
    values = {c: fields.get(c) for c in _COLUMNS} | {"active": fields.get("active", True)}
    badge_id = repo.insert_badge(
        session,
        {
            **values,
            "program_id": program_id,
            "kind": criteria.kind.value,
            "criteria": json.dumps(criteria.as_json(), separators=(",", ":")),
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_badge(session, program_id=program_id, badge_id=badge_id)


def update_badge(
    session: Session, *, program_id: int, badge_id: int, changes: dict[str, Any], now: datetime
) -> Any:
    """Fields left out stay; `null` clears an optional one. A new criterion applies to what
    happens from now on: badges already earned stay earned."""
    get_badge(session, program_id=program_id, badge_id=badge_id)
    values = {c: changes[c] for c in _COLUMNS if c in changes}
    if "criteria" in changes:
        criteria = _checked(session, program_id, changes["criteria"])
        values["kind"] = criteria.kind.value
        values["criteria"] = json.dumps(criteria.as_json(), separators=(",", ":"))
    repo.update_badge(session, program_id, badge_id, {**values, "updated_at": now})
    return get_badge(session, program_id=program_id, badge_id=badge_id)


def get_badge(session: Session, *, program_id: int, badge_id: int) -> Any:
    row = repo.badge_row(session, program_id, badge_id)
    if row is None:
        raise BadgeNotFoundError(f"badge {badge_id} not found", details={"badge_id": badge_id})
    return row


def list_badges(
    session: Session, *, program_id: int, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    return repo.badge_page(session, program_id, after_id=after_id, limit=limit, active=active)


def configured(session: Session, program_id: int) -> bool:
    return repo.any_active(session, program_id)


def _checked(session: Session, program_id: int, raw: dict[str, Any]) -> Criteria:
    """The criterion, or 422: an event type Punchcard does not know (custom.* types are
    fine), items summed on another type than recycling, a tier the program does not have."""
    criteria = Criteria.of(raw)
    if criteria.kind is Kind.EVENT_COUNT:
        kind = str(criteria.event_type)
        known = kind in SCHEMAS or (CUSTOM.match(kind) is not None)
        if not known or kind.startswith(RESERVED):
            raise InvalidBadgeError(
                f"unknown event type {kind!r}",
                details={"field": "criteria.event_type", "known": sorted(SCHEMAS),
                         "custom": "custom.<name>"},
            )  # fmt: skip
        if criteria.sum == "items" and kind != domain.ITEMS_EVENT:
            raise InvalidBadgeError(
                f'"sum": "items" only counts the items of {domain.ITEMS_EVENT} events',
                details={"field": "criteria.sum"},
            )
    if criteria.kind is Kind.TIER_REACHED:
        names = repo.tier_names(session, program_id)
        if names is None or criteria.tier not in names:
            raise UnknownTierError(
                f"not a tier of this program: {criteria.tier}"
                + ("" if names is not None else " (the program has no tiers yet)"),
                details={"field": "criteria.tier", "tiers": names or []},
            )
    return criteria


# --- awards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    badge: Definition
    member_id: int
    source_id: str
    occurred_at: datetime
    pending_days: int = 0  # an order's return window, for a badge an order earned


def grant(session: Session, program: ProgramSettings, grants: list[Grant], now: datetime) -> int:
    """Award these badges, each at most once per member, and the points of those awarded
    now; how many were awarded. The caller holds the members' balance locks."""
    rows = [
        {
            "program_id": program.id,
            "badge_id": g.badge.id,
            "member_id": g.member_id,
            "source_id": g.source_id[:200],
            "points": g.badge.points or 0,
            "occurred_at": g.occurred_at,
            "awarded_at": now,
        }
        for g in grants
    ]
    inserted = repo.insert_awards(session, rows)
    for g in grants:
        if (g.badge.id, g.member_id) in inserted and g.badge.points:
            award_points(
                session,
                program=program,
                member_id=g.member_id,
                points=g.badge.points,
                reason="badge",
                reference=f"badge:{g.badge.id}",
                occurred_at=g.occurred_at,
                now=now,
                pending_days=g.pending_days,
                meta={"badge_id": g.badge.id, "badge": g.badge.name, "source_id": g.source_id},
            )
    return len(inserted)


def _facts(
    session: Session,
    program_id: int,
    member_id: int,
    badges: list[Definition],
    leave_out: str | None = None,
    until: datetime | None = None,
) -> MemberFacts:
    needs = Needs.of([b.criteria for b in badges])
    facts = repo.member_facts(
        session, program_id, member_id, needs, leave_out=leave_out, until=until
    )
    if facts is None:
        raise MemberNotFoundError(f"member {member_id} not found", details={"member_id": member_id})
    return facts


def on_event(session: Session, seen: EventSeen) -> int:
    """Badges this event earns the member. Constant statements whatever the number of
    badges: the unearned ones, the member's lock, every count in one, one insert."""
    program_id, member_id = seen.program.id, seen.member_id
    rows = repo.unearned(session, program_id, member_id, domain.EVENT_KINDS)
    if not rows:
        return 0
    badges = [definition_of(r) for r in rows]
    ledger.lock(session, program_id, member_id)  # counts cannot move under us
    facts = _facts(
        session, program_id, member_id, badges, leave_out=seen.source_id, until=seen.occurred_at
    )
    facts = facts.with_event(seen.type, seen.data)
    met = [b for b in badges if domain.earned(b.criteria, facts, seen.occurred_at)]
    window = order_window(seen)
    grants = [Grant(b, member_id, seen.source_id, seen.occurred_at, window) for b in met]
    return grant(session, seen.program, grants, seen.now) if grants else 0


def after_donation(
    session: Session, *, program: ProgramSettings, member_id: int, redemption_id: int,
    now: datetime,
) -> int:  # fmt: skip
    """Donation badges, in the donation's transaction (under the member's lock)."""
    rows = repo.unearned(session, program.id, member_id, [Kind.DONATIONS])
    if not rows:
        return 0
    badges = [definition_of(r) for r in rows]
    facts = _facts(session, program.id, member_id, badges)
    met = [b for b in badges if domain.earned(b.criteria, facts, now)]
    grants = [Grant(b, member_id, f"donation:{redemption_id}", now) for b in met]
    return grant(session, program, grants, now) if grants else 0


def award(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    badge_id: int,
    source_id: str,
    occurred_at: datetime,
    now: datetime,
) -> bool:
    """Give one badge whatever its criterion (a challenge's reward, an admin's gift): True if
    awarded now, False if the member had it already or the badge is missing or retired."""
    row = repo.badge_row(session, program_id, badge_id)
    if row is None or not row.active:
        return False
    ledger.lock(session, program_id, member_id)  # 404 for an unknown member
    program = programs.get_program(session, program_id)
    grants = [Grant(definition_of(row), member_id, source_id, occurred_at)]
    return grant(session, program, grants, now) == 1


def award_by_admin(
    session: Session, *, program_id: int, member_id: int, badge_id: int, key_id: int,
    now: datetime,
) -> tuple[bool, Any]:  # fmt: skip
    """(awarded now, the member's award). 404 for an unknown badge or member, 409
    `badge_inactive` for a retired badge."""
    row = get_badge(session, program_id=program_id, badge_id=badge_id)
    if not row.active:
        raise BadgeInactiveError(
            f"badge {badge_id} is retired: activate it first", details={"badge_id": badge_id}
        )
    awarded = award(
        session, program_id=program_id, member_id=member_id, badge_id=badge_id,
        source_id=f"admin:{key_id}", occurred_at=now, now=now,
    )  # fmt: skip
    found = repo.earned_one(session, program_id, member_id, badge_id)
    return awarded, found


@dataclass(frozen=True)
class MemberBadges:
    earned: list[Any]
    locked: list[tuple[Any, Progress]] | None


def member_badges(
    session: Session, *, program_id: int, member_id: int, include_locked: bool, now: datetime
) -> MemberBadges:
    """Earned badges (retired ones too: earned stays earned), and with `include_locked` the
    active badges not earned yet with how far the member is. Unknown member: 404."""
    rows = repo.unearned(session, program_id, member_id) if include_locked else []
    facts = _facts(session, program_id, member_id, [definition_of(r) for r in rows])
    earned = repo.earned(session, program_id, member_id)
    if not include_locked:
        return MemberBadges(earned, None)
    locked = [(r, domain.progress(definition_of(r).criteria, facts, now)) for r in rows]
    return MemberBadges(earned, locked)
