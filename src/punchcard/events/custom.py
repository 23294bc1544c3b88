"""Custom event types: a program registers a JSON Schema (draft 2020-12) for a `custom.*` type,
and events of that type are checked against it before anything is written. Unregistered
custom types keep their data as given."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.errors import InvalidInputError, NotFoundError
from punchcard.events.types import CUSTOM, InvalidEventError
from punchcard.models import EventSchema
from punchcard.models.base import table_of


class InvalidSchemaError(InvalidInputError):
    code = "invalid_schema"


class NotCustomTypeError(InvalidInputError):
    code = "invalid_event_type"


class SchemaNotFoundError(NotFoundError):
    code = "event_type_not_found"


@lru_cache(maxsize=256)
def _validator(text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(text))


def register(
    session: Session, *, program_id: int, event_type: str, schema: dict[str, Any], now: datetime
) -> None:
    if not CUSTOM.match(event_type):
        raise NotCustomTypeError(
            f"{event_type!r} is not a custom type: use custom.<name> (a-z, 0-9, _)",
            details={"type": event_type},
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "$"
        raise InvalidSchemaError(
            f"not a valid JSON Schema at {path}: {exc.message}", details={"path": path}
        ) from exc
    text = json.dumps(schema, sort_keys=True)
    statement = insert_or_skip(session, table_of(EventSchema)).values(
        program_id=program_id, type=event_type, body=text, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["program_id", "type"], set_={"body": text, "updated_at": now}
        )
    )


def schemas(session: Session, program_id: int) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(EventSchema.type, EventSchema.body)
        .where(EventSchema.program_id == program_id)
        .order_by(EventSchema.type)
    ).all()
    return {r.type: json.loads(r.body) for r in rows}


def schema_of(session: Session, program_id: int, event_type: str) -> dict[str, Any]:
    found = schemas_text(session, program_id, event_type)
    if found is None:
        raise SchemaNotFoundError(f"no schema registered for {event_type!r}")
    return json.loads(found)  # type: ignore[no-any-return]


def schemas_text(session: Session, program_id: int, event_type: str) -> str | None:
    return session.execute(
        select(EventSchema.body).where(
            EventSchema.program_id == program_id, EventSchema.type == event_type
        )
    ).scalar_one_or_none()


def check_custom(session: Session, program_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Refuse a custom event whose data breaks its registered schema, naming every problem."""
    text = schemas_text(session, program_id, event_type)
    if text is None:
        return
    problems = [
        {
            "path": "data"
            + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path),
            "message": e.message,
        }
        for e in sorted(
            _validator(text).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
    if problems:
        raise InvalidEventError(
            f"{problems[0]['path']}: {problems[0]['message']}", details={"errors": problems}
        )
