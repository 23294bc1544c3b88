"""Reads the dashboard needs that no service offers: points issued and redeemed per month
(the KPI summary gives them for a whole range only)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.models import LedgerTransaction, Posting

ISSUED, REDEEMED = "program:issued", "program:redeemed"


def month_starts(last: date, months: int) -> list[date]:
    """The first days of the `months` months ending with `last`'s month, oldest first."""
    index = last.year * 12 + last.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def points_by_month(
    session: Session, program_id: int, last: date, months: int = 12
) -> list[tuple[str, int, int]]:
    """(YYYY-MM, issued, redeemed) for each month up to `last`, with the KPI summary's signs:
    issued is what program:issued gave out, redeemed what program:redeemed took back."""
    starts = month_starts(last, months)
    since = datetime(starts[0].year, starts[0].month, 1, tzinfo=UTC)
    rows = session.execute(
        select(LedgerTransaction.occurred_at, Posting.account, Posting.amount)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(
            Posting.program_id == program_id,
            Posting.account.in_((ISSUED, REDEEMED)),
            LedgerTransaction.program_id == program_id,
            LedgerTransaction.occurred_at >= since,
        )
    )
    issued: dict[str, int] = defaultdict(int)
    redeemed: dict[str, int] = defaultdict(int)
    for moment, account, amount in rows:
        key = f"{moment.year:04d}-{moment.month:02d}"
        if account == ISSUED:
            issued[key] -= int(amount)
        else:
            redeemed[key] += int(amount)
    keys = [f"{s.year:04d}-{s.month:02d}" for s in starts]
    return [(k, issued[k], redeemed[k]) for k in keys]
