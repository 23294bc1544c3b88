"""SQL for stored first responses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import IdempotencyKey
from punchcard.models.base import table_of


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status_code: int | None
    body: bytes | None


def claim(
    session: Session, program_id: int, key: str, fingerprint: str, now: datetime
) -> Stored | None:
    """Claim the key for this request (None), or return what an earlier request stored.

    On PostgreSQL a second request with the same key waits here until the first one commits
    or rolls back, so two racing retries never both run the write."""
    claimed = session.execute(
        insert_or_skip(session, table_of(IdempotencyKey))
        .values(program_id=program_id, key=key, fingerprint=fingerprint, created_at=now)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).scalar_one_or_none()
    if claimed is not None:
        return None
    row = session.execute(
        select(
            IdempotencyKey.fingerprint, IdempotencyKey.status_code, IdempotencyKey.response_body
        ).where(IdempotencyKey.program_id == program_id, IdempotencyKey.key == key)
    ).one()
    return Stored(row.fingerprint, row.status_code, row.response_body)


def save(session: Session, program_id: int, key: str, status_code: int, body: bytes) -> None:
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.program_id == program_id, IdempotencyKey.key == key)
        .values(status_code=status_code, response_body=body)
    )


def exists(session: Session, program_id: int, key: str) -> bool:
    found = session.execute(
        select(IdempotencyKey.key).where(
            IdempotencyKey.program_id == program_id, IdempotencyKey.key == key
        )
    ).first()
    return found is not None
