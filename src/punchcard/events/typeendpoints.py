"""/v1/event-types: the JSON Schemas of a program's `custom.*` event types (`custom`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from punchcard.api.deps import Admin, DbDep, NowDep, Reader
from punchcard.api.schemas import errors
from punchcard.events import custom

router = APIRouter(tags=["events"])


class EventTypeOut(BaseModel):
    type: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")


class EventTypeList(BaseModel):
    items: list[EventTypeOut]


@router.put(
    "/v1/event-types/{event_type}",
    response_model=EventTypeOut,
    response_model_by_alias=True,
    responses=errors(400, 403),
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
