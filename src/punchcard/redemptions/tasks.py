"""Codes past their date become expired, a batch per transaction.

The points of an expired code are not given back: the member chose the reward and had the
whole validity period to use it (or to cancel it and get the points back). Checkout already
refuses a code past its date whether or not this job has run; the job makes the state say so
(the wallet, reports) and keeps the set of issued codes small."""

from __future__ import annotations

from datetime import datetime

from punchcard.db import Database, session_scope
from punchcard.redemptions import repository as repo


def expire_codes(db: Database, *, now: datetime, batch_size: int = 500) -> int:
    """Idempotent: a second run, or one racing this one, finds nothing left to expire."""
    expired = 0
    while True:
        with session_scope(db.writer) as session:
            found, done = repo.expire_batch(session, now, batch_size)
        expired += done
        if found < batch_size:
            return expired
