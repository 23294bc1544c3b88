"""Forget stored responses once no client would still retry with their key."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from punchcard.db import Database, rowcount, session_scope
from punchcard.models import IdempotencyKey


def prune(db: Database, *, now: datetime, ttl_hours: int) -> int:
    with session_scope(db.writer) as session:
        result = session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.created_at < now - timedelta(hours=ttl_hours)
            )
        )
        return rowcount(result)
