"""/v1/events (one, or up to 1,000 in a batch) and the explanation of a transaction; the
`custom.*` event types' schemas are in `typeendpoints`."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from punchcard.api.deps import Caller, DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.handlers import validation_body
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.db import Database
from punchcard.engagement import hooks as engagement
from punchcard.engagement.hooks import Engaged
from punchcard.errors import ConflictError, PunchcardError
from punchcard.events import express, fastpath, idslots, service
from punchcard.events.repository import explanation_for
from punchcard.events.schemas import (
    BatchIn,
    BatchItem,
    BatchOut,
    EventIn,
    EventResult,
    result_body,
)
from punchcard.ledger import queries
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import service as rules
from punchcard.tiers import service as tiers
from punchcard.tiers.domain import Policy

router = APIRouter(tags=["events"])
# Set in a request's state by the express door (events.door) when the lane raised for it:
# the route then goes straight to the careful path instead of trying the lane again.
EXPRESS_FAILED = "punchcard_express_failed"
DryRun = Annotated[bool, Query(description="Evaluate and answer without writing anything.")]


def _input(body: EventIn) -> service.EventInput:
    return service.EventInput(
        source_id=body.id,
        type=body.type,
        member=body.member.model_dump(exclude_none=True),
        occurred_at=body.occurred_at,
        channel=body.channel,
        store_id=body.store_id,
        data=body.data,
    )


def _ingest(
    session: Session,
    program: ProgramSettings,
    body: EventIn,
    now: datetime,
    dry_run: bool,
    engaged: Engaged | None = None,
) -> EventResult:
    result = service.ingest(
        session, program=program, event=_input(body), now=now, dry_run=dry_run, engaged=engaged
    )
    return EventResult.model_validate(result)


def _program(db: Database, program_id: int) -> ProgramSettings:
    def load() -> ProgramSettings:
        with db.reader() as session:
            return programs.get_program(session, program_id)

    return db.caches.get(("program", program_id), load)


def _rules(db: Database, program_id: int) -> rules.RulesInForce:
    def load() -> rules.RulesInForce:
        with db.reader() as session:
            return rules.in_force(session, program_id)

    return db.caches.get(("rules", program_id), load)


def _settings(
    db: Database, program_id: int
) -> tuple[ProgramSettings, rules.RulesInForce, Policy | None, Engaged]:
    """What the express lane needs of the program, from the caches or the database."""
    return (
        _program(db, program_id),
        _rules(db, program_id),
        tiers.cached_policy(db, program_id),
        engagement.cached_configured(db, program_id),
    )


def _lane(
    db: Database, who: Caller, body: EventIn, current: rules.RulesInForce
) -> tuple[service.EventInput, int | None] | None:
    """The event and its cached member id when the express lane may take it, else None."""
    event = _input(body)
    if not fastpath.eligible(current.rules, event) or express.looks_at_member(
        current.rules, event.type
    ):
        return None
    ((kind, value),) = event.member.items()
    member_id = int(value) if kind == "id" else db.caches.member_id(who.program_id, str(value))
    return event, member_id


def _answer(
    db: Database, who: Caller, event: service.EventInput, outcome: tuple[Any, int | None]
) -> Response | None:
    result, known = outcome
    external_id = event.member.get("external_id")
    if external_id is not None and known is not None:  # the next event goes straight through
        db.caches.remember_member(who.program_id, str(external_id), known)
    if result is None:
        return None
    answer = EventResult.model_validate(result).model_dump_json()
    return Response(answer, media_type="application/json")


async def express_answer(
    state: Any, db: Database, who: Caller, body: EventIn, now: datetime
) -> Response | None:
    """The one-statement lane for the common case (see `events.express`), sent from the
    event loop; None when the event needs the careful path. `state`: the application's."""
    lane = getattr(state, "async_lane", None)
    blocks = getattr(state, "id_blocks", None)
    if lane is None or blocks is None:
        return None
    found_program, program = db.caches.peek(("program", who.program_id))
    found_rules, current = db.caches.peek(("rules", who.program_id))
    found_tiers, policy = db.caches.peek(("tiers", who.program_id))
    found_engaged, engaged = db.caches.peek(("engagement", who.program_id))
    if not (found_program and found_rules and found_tiers and found_engaged):
        # once per TTL, in one trip to the thread pool for all the requests that missed them
        program, current, policy, engaged = await db.caches.once(
            ("settings", who.program_id), lambda: _settings(db, who.program_id)
        )
    if policy is not None or engaged:
        return None  # tiers and engagement features are decided on the careful path
    found = _lane(db, who, body, current)
    if found is None or (found[1] is None and not program.auto_enrol):
        return None
    event, member_id = found
    try:
        outcome = await express.try_ingest(
            lane, blocks, program=program, rules=current, event=event, member_id=member_id, now=now
        )
    except IntegrityError as exc:
        raise _raced() from exc
    return None if outcome is None else _answer(db, who, event, outcome)


def _fast(
    session: Session,
    program: ProgramSettings,
    current: rules.RulesInForce,
    events: list[service.EventInput],
    now: datetime,
    policy: Policy | None,
    engaged: Engaged | None = None,
    early: fastpath.Early | None = None,
) -> list[fastpath.Outcome]:
    """The fast path, with a write that lost a race (the same event or order id committed by
    another request a moment before) answered as a conflict to retry, not a 500."""
    try:
        return fastpath.ingest_many(
            session,
            program=program,
            rules=current,
            events=events,
            now=now,
            tiers=policy,
            engaged=engaged,
            early=early,
        )
    except IntegrityError as exc:
        raise _raced() from exc


def _raced() -> ConflictError:
    return ConflictError(
        "another request recorded the same event or order at the same moment; "
        "send it again to get its result",
        code="concurrent_write",
    )


@router.post(
    "/v1/events",
    response_model=EventResult,
    responses=errors(400, 403, 404, 409),
)
async def post_event(
    body: EventIn,
    request: Request,
    who: Writer,
    dry_run: DryRun = False,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Record what a member did and answer what it earned. The same source `id` again returns
    the first result and earns nothing twice."""
    # The database and the clock straight from the application: on the busiest route each
    # dependency FastAPI resolves is measurable.
    db: Database = request.app.state.db
    now: datetime = request.app.state.clock()
    # A coroutine: the express lane runs from the event loop, and only an event that needs
    # the careful path goes to the thread pool for it.
    if dry_run:
        idempotency_key = None
    elif idempotency_key is None and not getattr(request.state, EXPRESS_FAILED, False):
        answered = await express_answer(request.app.state, db, who, body, now)
        if answered is not None:
            return answered
    return await run_in_threadpool(
        _post_event, request, db, who, body, now, dry_run, idempotency_key
    )


def _post_event(
    request: Request,
    db: Database,
    who: Caller,
    body: EventIn,
    now: datetime,
    dry_run: bool,
    idempotency_key: str | None,
) -> Response:
    def handler(session: Session) -> tuple[int, BaseModel]:
        program = _program(db, who.program_id)
        engaged = None if dry_run else engagement.cached_configured(db, who.program_id)
        if not dry_run:
            current = _rules(db, who.program_id)
            event = _input(body)
            if fastpath.eligible(current.rules, event):
                policy = tiers.cached_policy(db, who.program_id)
                (outcome,) = _fast(session, program, current, [event], now, policy, engaged)
                if isinstance(outcome, PunchcardError):
                    raise outcome
                return 200, EventResult.model_validate(outcome)
        result = _ingest(session, program, body, now, dry_run, engaged)
        if dry_run:
            session.rollback()
        return 200, result

    # Nothing is learnt here for the member cache: the answer may be a replay, the stored
    # result of an event first sent for another customer. The express lane learns a customer's
    # id from its own statement, which looks the member up by this external id.
    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.post("/v1/events/batch", response_model=BatchOut, responses=errors(400, 403, 409))
def post_batch(
    body: BatchIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    dry_run: DryRun = False,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Up to 1,000 events in one call and one commit; each is applied or refused on its own,
    so one bad event does not sink the others."""

    def handler(session: Session) -> tuple[int, BaseModel | bytes]:
        program = _program(db, who.program_id)
        if dry_run:
            shaped = [
                _batch_item(session, program, i, raw, now, dry_run).model_dump(mode="json")
                for i, raw in enumerate(body.events)
            ]
            session.rollback()
        else:
            current = _rules(db, who.program_id)
            policy = tiers.cached_policy(db, who.program_id)
            engaged = engagement.cached_configured(db, who.program_id)
            shaped = _batch_items(
                session, program, current, policy, body.events, now, engaged, (db, slot)
            )
        accepted = sum(1 for item in shaped if item["result"] is not None)
        out = {"accepted": accepted, "rejected": len(shaped) - accepted, "items": shaped}
        return 200, orjson.dumps(out)  # as BatchOut dumps it (tests/events/test_batch_body.py)

    if dry_run:
        idempotency_key = None
    # On SQLite a large batch plans before it takes the write lock, with ids of its slot,
    # held until its commit (`idslots`), so that several server processes plan at once.
    claim = db.is_sqlite and not dry_run and len(body.events) >= fastpath.OPTIMISTIC_FROM
    with idslots.claimed(db) if claim else nullcontext() as slot:
        return run_write(request, db, who, now, body, handler, idempotency_key)


def _batch_items(
    session: Session,
    program: ProgramSettings,
    current: rules.RulesInForce,
    policy: Policy | None,
    raw_events: list[dict[str, Any]],
    now: datetime,
    engaged: Engaged | None = None,
    slotted: tuple[Database, int | None] | None = None,
) -> list[dict[str, Any]]:
    """Runs of events the fast path can take go through it together; any other event (a
    refund, say) goes alone through the general path, in its place, so that order holds.
    Each item as `BatchItem` dumps it. `slotted`: the database and the batch's id slot on
    SQLite (`idslots`), for a run to be planned before the write lock."""
    items: dict[int, dict[str, Any]] = {}
    run: list[tuple[int, service.EventInput]] = []

    def flush() -> None:
        if not run:
            return
        events = [e for _, e in run]
        db, slot = slotted or (None, None)
        with idslots.early(db, slot, session, len(events)) as early:
            outcomes = _fast(session, program, current, events, now, policy, engaged, early)
        for (index, _), outcome in zip(run, outcomes, strict=True):
            if isinstance(outcome, PunchcardError):
                error = outcome.to_body()["error"]
                items[index] = _item(index, outcome.status, None, error)
            else:
                items[index] = _item(index, 200, result_body(outcome), None)
        run.clear()

    def alone(index: int, raw: dict[str, Any]) -> dict[str, Any]:
        return _batch_item(session, program, index, raw, now, False, engaged).model_dump(
            mode="json"
        )

    for index, raw in enumerate(raw_events):
        try:
            event = _input(EventIn.model_validate(raw))
        except ValidationError:
            items[index] = alone(index, raw)
            continue
        if fastpath.eligible(current.rules, event):
            run.append((index, event))
            continue
        flush()
        items[index] = alone(index, raw)
    flush()
    return [items[i] for i in range(len(raw_events))]


def _item(
    index: int, status: int, result: dict[str, Any] | None, error: dict[str, Any] | None
) -> dict[str, Any]:
    return {"index": index, "status": status, "result": result, "error": error}


def _batch_item(
    session: Session,
    program: ProgramSettings,
    index: int,
    raw: dict[str, Any],
    now: datetime,
    dry_run: bool,
    engaged: Engaged | None = None,
) -> BatchItem:
    try:
        event = EventIn.model_validate(raw)
    except ValidationError as exc:
        status, error = validation_body(exc.errors())
        return BatchItem(index=index, status=status, error=error["error"])
    savepoint = session.begin_nested()
    try:
        result = _ingest(session, program, event, now, dry_run, engaged)
    except PunchcardError as exc:
        savepoint.rollback()
        return BatchItem(index=index, status=exc.status, error=exc.to_body()["error"])
    savepoint.commit()
    return BatchItem(index=index, status=200, result=result)


@router.get(
    "/v1/members/{member_id}/transactions/{transaction_id}/explain",
    responses=errors(403, 404),
    tags=["ledger"],
)
def explain(member_id: Id, transaction_id: Id, who: Reader, db: DbDep) -> dict[str, Any]:
    """Why a transaction happened: the event, the rule version, which rules applied and how
    many points each gave (and what caps or budgets cut), and which did not apply and why."""
    with db.reader() as session:
        tx = queries.transaction(session, who.program_id, member_id, transaction_id)
        found = explanation_for(session, who.program_id, transaction_id)
    base = {"transaction_id": tx.id, "kind": tx.kind, "points": tx.points, "reason": tx.reason}
    if found is None:
        return {**base, "source": "ledger", "reverses_id": tx.reverses_id, "meta": tx.meta}
    return {**base, "source": "event", **found}
