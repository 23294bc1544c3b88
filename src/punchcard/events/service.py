"""Ingesting an event: dedupe on the source's id, find (or enrol) the member, let the rules
decide, write the ledger, and keep the result and its explanation.

Everything happens in the caller's transaction, so an event is either wholly recorded (event,
order, awards, ledger transaction) or not at all; a replay of the same source id gets the first
result and changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement import hooks as engagement
from punchcard.engagement.context import EventSeen
from punchcard.engagement.hooks import Engaged
from punchcard.errors import NotFoundError
from punchcard.events import custom, orders
from punchcard.events import repository as repo
from punchcard.events.earning import earn
from punchcard.events.types import CUSTOM, check_data
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Kind
from punchcard.members import service as members
from punchcard.members.domain import Channel
from punchcard.programs.domain import ProgramSettings
from punchcard.rules.domain import Evaluation, Facts
from punchcard.tiers import service as tiers

REFUNDS = ("order.refunded", "order.cancelled")


class EventMemberNotFoundError(NotFoundError):
    code = "member_not_found"


@dataclass(frozen=True)
class EventInput:
    source_id: str
    type: str
    member: dict[str, Any]  # exactly one of external_id, card_number, id
    occurred_at: datetime
    channel: Channel = Channel.OTHER
    store_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def member_ref(self) -> tuple[str, str]:
        """(identifier, value as text) of the member: what a batch groups and looks members
        up by, several times an event, so worked out once."""
        ((kind, value),) = self.member.items()
        return kind, str(value)


@dataclass
class Outcome:
    """What the event did, before it is turned into the stored result."""

    member_id: int | None
    transaction_id: int | None = None
    awarded: int = 0
    pending: int = 0
    reversed: int = 0
    version: int | None = None
    evaluation: Evaluation | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    facts: Facts | None = None  # what the rules saw (None for refunds)


def resolve_member(
    session: Session, program: ProgramSettings, event: EventInput, now: datetime, *, enrol: bool
) -> int | None:
    ref = event.member
    ((field, value),) = ref.items()  # exactly one identifier: the schema makes sure
    found = members.search(
        session, program_id=program.id, filters={field: value}, after_id=0, limit=1
    )
    if found:
        return found[0].id
    if "external_id" in ref and program.auto_enrol:
        if not enrol:
            return None
        member, _ = members.enrol(
            session,
            program_id=program.id,
            external_id=ref["external_id"],
            channel=event.channel,
            now=event.occurred_at if event.occurred_at < now else now,
        )
        return member.id
    raise EventMemberNotFoundError(
        "no such member" + ("" if program.auto_enrol else " (auto-enrolment is off)"),
        details={"member": ref},
    )


def ingest(
    session: Session,
    *,
    program: ProgramSettings,
    event: EventInput,
    now: datetime,
    dry_run: bool = False,
    engaged: Engaged | None = None,
) -> dict[str, Any]:
    return ingest_once(
        session, program=program, event=event, now=now, dry_run=dry_run, engaged=engaged
    )[0]


def ingest_once(
    session: Session,
    *,
    program: ProgramSettings,
    event: EventInput,
    now: datetime,
    dry_run: bool = False,
    engaged: Engaged | None = None,
) -> tuple[dict[str, Any], bool]:
    """The result, and whether it is a replay of an event seen before. `engaged`: whether
    the program has engagement features (challenges, badges, ...) set up, if the caller
    knows it from its cache; else it is read."""
    data = check_data(event.type, event.data)
    if CUSTOM.match(event.type):
        custom.check_custom(session, program.id, event.type, event.data)
    stored = repo.stored_result(session, program.id, event.source_id)
    if stored is not None:
        return json.loads(stored), True
    event_row = None
    if not dry_run:
        event_row = repo.claim_event(
            session,
            {
                "program_id": program.id,
                "source_id": event.source_id,
                "type": event.type,
                "occurred_at": event.occurred_at,
                "channel": event.channel.value,
                "store_id": event.store_id,
                "data": json.dumps(event.data, separators=(",", ":"), default=str),
                "created_at": now,
            },
        )
        if event_row is None:  # a concurrent twin committed first
            again = repo.stored_result(session, program.id, event.source_id)
            assert again is not None
            return json.loads(again), True
    member_id = resolve_member(session, program, event, now, enrol=not dry_run)
    outcome = _dispatch(session, program, event, data, member_id, now, event_row, dry_run)
    if event_row is not None and outcome.member_id is not None and event.type not in REFUNDS:
        tiers.after_earning(  # upgrades happen at the qualifying event, in its transaction
            session,
            program_id=program.id,
            member_id=outcome.member_id,
            occurred_at=event.occurred_at,
            now=now,
            cause=event.source_id,
        )
    if event_row is not None and outcome.member_id is not None:
        if engaged is None:
            engaged = engagement.configured(session, program.id)
        if engaged:
            engagement.after_event(session, seen_of(program, event, outcome, now), engaged)
    result = result_of(event, outcome, dry_run)
    if event_row is not None:
        repo.finish_event(
            session,
            event_row,
            member_id=outcome.member_id,
            result=result,
            explanation=explanation_of(event, outcome),
            transaction_id=outcome.transaction_id,
        )
    return result, False


def _dispatch(
    session: Session,
    program: ProgramSettings,
    event: EventInput,
    data: Any,
    member_id: int | None,
    now: datetime,
    event_row: int | None,
    dry_run: bool,
) -> Outcome:
    if event.type == "order.placed":
        return orders.place(session, program, event, data, member_id, now, event_row, dry_run)
    if event.type in ("order.refunded", "order.cancelled"):
        return orders.refund(session, program, event, data, member_id, now, dry_run)
    return _action(session, program, event, member_id, now, event_row, dry_run)


def _action(
    session: Session,
    program: ProgramSettings,
    event: EventInput,
    member_id: int | None,
    now: datetime,
    event_row: int | None,
    dry_run: bool,
) -> Outcome:
    """Any event other than an order: points are available at once (no return window)."""
    facts = Facts(event.type, event.occurred_at, event.channel.value, event.store_id, None)
    earned = earn(
        session,
        program_id=program.id,
        member_id=member_id,
        facts=facts,
        lock_budgets=not dry_run,
        now=None if dry_run or event_row is None else now,
    )
    outcome = Outcome(
        member_id, version=earned.version, evaluation=earned.evaluation, facts=earned.facts
    )
    total = earned.evaluation.total
    outcome.awarded = total
    if dry_run or total == 0 or member_id is None:
        return outcome
    outcome.transaction_id = ledger.credit(
        session,
        program=program,
        member_id=member_id,
        points=total,
        reason=event.type,
        reference=event.source_id,
        now=now,
        occurred_at=event.occurred_at,
        kind=Kind.EARN,
        pending_days=0,
        meta={"event_id": event.source_id, "rule_version": earned.version},
    )
    orders.record_awards(
        session, program, member_id, event, event_row, outcome.transaction_id, earned
    )
    return outcome


def seen_of(
    program: ProgramSettings, event: EventInput, outcome: Outcome, now: datetime
) -> EventSeen:
    assert outcome.member_id is not None
    facts = outcome.facts or Facts(
        event.type, event.occurred_at, event.channel.value, event.store_id, None
    )
    return EventSeen(
        program=program,
        member_id=outcome.member_id,
        source_id=event.source_id,
        type=event.type,
        occurred_at=event.occurred_at,
        channel=event.channel.value,
        store_id=event.store_id,
        data=event.data,
        facts=facts,
        points=outcome.awarded + outcome.pending - outcome.reversed,
        now=now,
    )


def result_of(event: EventInput, outcome: Outcome, dry_run: bool) -> dict[str, Any]:
    awards = []
    if outcome.evaluation is not None:
        awards = [
            {
                "rule_id": a.rule_id,
                "rule_version": outcome.version,
                "points": a.points,
                "reason": a.rule_name + (f" (cut by {a.cut_by})" if a.cut_by else ""),
            }
            for a in outcome.evaluation.awards
            if a.points > 0
        ]
    result: dict[str, Any] = {
        "event_id": event.source_id,
        "type": event.type,
        "member_id": outcome.member_id,
        "transaction_id": outcome.transaction_id,
        "points": {
            "awarded": outcome.awarded,
            "pending": outcome.pending,
            "reversed": outcome.reversed,
        },
        "awards": awards,
        "dry_run": dry_run,
    }
    result.update(outcome.extra)
    return result


def explanation_of(event: EventInput, outcome: Outcome) -> dict[str, Any]:
    evaluation = outcome.evaluation
    return {
        "event": {
            "id": event.source_id,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "channel": event.channel.value,
            "store_id": event.store_id,
        },
        "rule_version": outcome.version,
        "awards": [
            {
                "rule_id": a.rule_id,
                "rule_name": a.rule_name,
                "points": a.points,
                "before_caps": a.raw_points,
                "cut_by": a.cut_by,
                "per_line": list(a.lines),
            }
            for a in (evaluation.awards if evaluation else ())
        ],
        "not_applied": [
            {"rule_id": rule_id, "why": why}
            for rule_id, why in (evaluation.skipped if evaluation else ())
        ],
        **outcome.extra,
    }
