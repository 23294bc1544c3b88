"""The browser side's periodic clean-up: members' one-time sign-in codes are kept a day (long
enough to see a burst of requests, which the portal limits per hour), then deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from punchcard.db import Database, rowcount, session_scope
from punchcard.models.web import LoginCode

KEEP_CODES = timedelta(days=1)


def prune_login_codes(db: Database, *, now: datetime) -> int:
    """Delete codes created more than a day ago (expired long before); the number deleted."""
    with session_scope(db.writer) as session:
        done = session.execute(delete(LoginCode).where(LoginCode.created_at < now - KEEP_CODES))
        return rowcount(done)
