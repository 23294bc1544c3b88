"""Tables that serve the analytics queries (owned by the KPI work).

`analytics_points_daily` is the ledger summed per program, UTC day, member's enrolment channel
and account: a few rows a day instead of millions of postings. A job adds to it in id order
(the bounds in `analytics_rollups`); the KPI queries read it plus the postings outside the
bounds, so answers never wait for the job. Nothing on the earn path touches these rows.

The indexes below belong to other domains' tables; they are declared here, beside the queries
that need them, so that their tables' own modules stay about their own domain."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base, table_of
from punchcard.models.ledger_transaction import LedgerTransaction
from punchcard.models.redemption import Redemption
from punchcard.models.types import BigId, UTCDateTime


class PointsDaily(Base):
    __tablename__ = "analytics_points_daily"
    __table_args__ = (PrimaryKeyConstraint("program_id", "day", "channel", "account"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    account: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(BigInteger)


class Rollup(Base):
    """Which journal rows a rollup holds: exactly those with `id <= last_id` and
    `created_at < rolled_until`; every other row is read live. Both bounds, because neither
    alone orders commits: the express lane writes ids from blocks drawn earlier (an old id,
    a new `created_at`), and a slow transaction can commit long after its `created_at`.
    On PostgreSQL a new pair of bounds is noted first (`horizon_id`, `horizon_at`, with the
    noting transaction's id in `horizon_xmax`) and taken by a later run, once every
    transaction that was running when it was noted has ended: nothing inside the bounds can
    commit after that."""

    __tablename__ = "analytics_rollups"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    rolled_until: Mapped[datetime] = mapped_column(UTCDateTime)
    horizon_id: Mapped[int] = mapped_column(BigInteger)
    horizon_at: Mapped[datetime] = mapped_column(UTCDateTime)
    horizon_xmax: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


_LEDGER = table_of(LedgerTransaction)
_REDEMPTIONS = table_of(Redemption)

# No index is added to the tables the earn path writes on every event (events, orders, awards,
# members, the journal's member lookups): each cost the HTTP earn path about a tenth of its
# throughput, for KPI scans that need rollups anyway (docs/kpis.md).
# The rollup's live tail: the journal rows written since its time bound. BRIN: rows are
# appended in time order, so a summary per block range finds the recent ones, and keeping it
# costs the earn path next to nothing (a b-tree here cost it about a tenth of its throughput).
Index("ix_ledger_transactions_created", _LEDGER.c.created_at, postgresql_using="brin").ddl_if(
    dialect="postgresql"
)
Index("ix_redemptions_used_order", _REDEMPTIONS.c.program_id, _REDEMPTIONS.c.used_order_id)
