"""The write behind every change of a feature's settings (a challenge, badge, streak or
leaderboard, the referral or sharing settings): the idempotent write, then this process
forgets which features the program has set up, so that its next event is routed (express
lane or careful path, which hooks run) by the new settings at once."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from pydantic import BaseModel

from punchcard.api.deps import Caller
from punchcard.api.writes import Handler, run_write
from punchcard.db import Database
from punchcard.engagement import hooks


def run_config_write(
    request: Request,
    db: Database,
    who: Caller,
    now: datetime,
    body: BaseModel | None,
    handler: Handler,
    key: str | None,
) -> Response:
    """Forgotten even when the write fails: a reload costs one read, a stale answer would
    send events past the hooks."""
    try:
        return run_write(request, db, who, now, body, handler, key)
    finally:
        hooks.forget(db, who.program_id)
