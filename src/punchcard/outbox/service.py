"""Writing messages to the outbox and delivering them.

A message is written in the caller's transaction, so it exists exactly when the change it tells
of committed. Delivery runs after the commit (right after the request, and from the jobs for
anything left): with the `log` transport a message is printed to the server's log, which is how
the demo shows a member's sign-in code; with `none` it waits in the table for a relay.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from punchcard.db import Database, rowcount, session_scope
from punchcard.models.web import OutboxMessage

log = logging.getLogger("punchcard.outbox")


def enqueue_email(
    session: Session,
    *,
    program_id: int | None,
    recipient: str,
    subject: str,
    body: str,
    locale: str,
    now: datetime,
) -> OutboxMessage:
    message = OutboxMessage(
        program_id=program_id,
        kind="email",
        recipient=recipient,
        subject=subject,
        body=body,
        locale=locale,
        created_at=now,
        sent_at=None,
    )
    session.add(message)
    session.flush()
    return message


def deliver(db: Database, *, transport: str, now: datetime, limit: int = 100) -> int:
    """Send what waits (oldest first) and mark it sent; the number sent. Each message is
    claimed by the update that marks it, so two processes never both send one."""
    if transport == "none":
        return 0
    sent = 0
    with session_scope(db.writer) as session:
        waiting = (
            session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        for message in waiting:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.sent_at.is_(None))
                .values(sent_at=now)
            )
            if rowcount(claimed) == 1:
                log.info(
                    "e-mail to %s [%s]: %s\n%s",
                    message.recipient,
                    message.locale,
                    message.subject,
                    message.body,
                )
                sent += 1
    return sent


# A sent message may hold a sign-in code (valid minutes, not days): a day is enough to look
# into a delivery problem, and no copy of the table holds codes for longer.
KEEP_SENT = timedelta(days=1)


def prune(db: Database, *, now: datetime) -> int:
    """Forget messages sent more than a day ago (a relay marks what it sent with `sent_at`);
    the number deleted."""
    with session_scope(db.writer) as session:
        done = session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < now - KEEP_SENT
            )
        )
        return rowcount(done)
