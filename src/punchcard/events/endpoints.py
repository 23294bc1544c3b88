"""/v1/events (one, or up to 1,000 in a batch) and the explanation of a transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.handlers import validation_body
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.errors import PunchcardError
from punchcard.events import custom, service
from punchcard.events.repository import explanation_for
from punchcard.events.schemas import BatchIn, BatchItem, BatchOut, EventIn, EventResult
from punchcard.ledger import queries
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings

router = APIRouter(tags=["events"])
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
    session: Session, program: ProgramSettings, body: EventIn, now: datetime, dry_run: bool
) -> EventResult:
    result = service.ingest(session, program=program, event=_input(body), now=now, dry_run=dry_run)
    return EventResult.model_validate(result)


@router.post(
    "/v1/events",
    response_model=EventResult,
    responses=errors(400, 403, 404, 409),
)
def post_event(
    body: EventIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    dry_run: DryRun = False,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Record what a member did and answer what it earned. The same source `id` again returns
    the first result and earns nothing twice."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        result = _ingest(session, program, body, now, dry_run)
        if dry_run:
            session.rollback()
        return 200, result

    if dry_run:
        idempotency_key = None
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

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        items = [
            _batch_item(session, program, i, raw, now, dry_run) for i, raw in enumerate(body.events)
        ]
        if dry_run:
            session.rollback()
        accepted = sum(1 for item in items if item.result is not None)
        return 200, BatchOut(accepted=accepted, rejected=len(items) - accepted, items=items)

    if dry_run:
        idempotency_key = None
    return run_write(request, db, who, now, body, handler, idempotency_key)


def _batch_item(
    session: Session,
    program: ProgramSettings,
    index: int,
    raw: dict[str, Any],
    now: datetime,
    dry_run: bool,
) -> BatchItem:
    try:
        event = EventIn.model_validate(raw)
    except ValidationError as exc:
        status, error = validation_body(exc.errors())
        return BatchItem(index=index, status=status, error=error["error"])
    savepoint = session.begin_nested()
    try:
        result = _ingest(session, program, event, now, dry_run)
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
def explain(member_id: int, transaction_id: int, who: Reader, db: DbDep) -> dict[str, Any]:
    """Why a transaction happened: the event, the rule version, which rules applied and how
    many points each gave (and what caps or budgets cut), and which did not apply and why."""
    with db.reader() as session:
        tx = queries.transaction(session, who.program_id, member_id, transaction_id)
        found = explanation_for(session, who.program_id, transaction_id)
    base = {"transaction_id": tx.id, "kind": tx.kind, "points": tx.points, "reason": tx.reason}
    if found is None:
        return {**base, "source": "ledger", "reverses_id": tx.reverses_id, "meta": tx.meta}
    return {**base, "source": "event", **found}


class EventTypeOut(BaseModel):
    type: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")


class EventTypeList(BaseModel):
    items: list[EventTypeOut]


@router.put(
    "/v1/event-types/{event_type}",
    response_model=EventTypeOut,
    response_model_by_alias=True,
    responses=errors(403),
    tags=["events"],
)
def put_event_type(
    event_type: str,
    who: Admin,
    db: DbDep,
    now: NowDep,
    schema: dict[str, Any] = Body(description="A JSON Schema (draft 2020-12) for `data`."),
) -> EventTypeOut:
    """Register (or replace) the JSON Schema of a `custom.*` event type; events of that type
    are then refused with 422 `invalid_event_data` when their data breaks it."""
    with db.writer() as session:
        custom.register(
            session, program_id=who.program_id, event_type=event_type, schema=schema, now=now
        )
        session.commit()
    return EventTypeOut(type=event_type, schema=schema)


@router.get(
    "/v1/event-types",
    response_model=EventTypeList,
    response_model_by_alias=True,
    responses=errors(403),
)
def list_event_types(who: Reader, db: DbDep) -> EventTypeList:
    with db.reader() as session:
        found = custom.schemas(session, who.program_id)
    return EventTypeList(items=[EventTypeOut(type=t, schema=s) for t, s in found.items()])


@router.get(
    "/v1/event-types/{event_type}",
    response_model=EventTypeOut,
    response_model_by_alias=True,
    responses=errors(403, 404),
)
def get_event_type(event_type: str, who: Reader, db: DbDep) -> EventTypeOut:
    with db.reader() as session:
        return EventTypeOut(
            type=event_type, schema=custom.schema_of(session, who.program_id, event_type)
        )
