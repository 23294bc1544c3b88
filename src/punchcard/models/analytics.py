"""Tables that serve the analytics queries (owned by the KPI work).

`analytics_points_daily` is the ledger summed per program, UTC day, member's enrolment channel,
member's tier at rollup time and account: a few rows a day instead of millions of postings. A
job adds to it (the bounds in `analytics_rollups`); the KPI queries read it plus the postings
outside the bounds, so answers never wait for the job. Nothing on the earn path touches these rows.
`analytics_snapshots` does the same for orders, events, awards and codes used (snapshots.py).

The indexes below belong to other domains' tables; they are declared here, beside the queries
that need them, so that their tables' own modules stay about their own domain."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base, table_of
from punchcard.models.event import Event
from punchcard.models.ledger_transaction import LedgerTransaction
from punchcard.models.member import Member
from punchcard.models.redemption import Redemption
from punchcard.models.types import BigId, UTCDateTime


class PointsDaily(Base):
    __tablename__ = "analytics_points_daily"
    __table_args__ = (PrimaryKeyConstraint("program_id", "day", "channel", "tier", "account"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    # The member's stored tier when the job rolled the postings up; '' for none.
    tier: Mapped[str] = mapped_column(String(50))
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
_EVENTS = table_of(Event)
_MEMBERS = table_of(Member)
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
# The snapshots' live tail: events and members written since their time bound (BRIN, as above).
Index("ix_events_created", _EVENTS.c.created_at, postgresql_using="brin").ddl_if(
    dialect="postgresql"
)
Index("ix_members_created", _MEMBERS.c.created_at, postgresql_using="brin").ddl_if(
    dialect="postgresql"
)
# Redemptions per reward within a range, read live (not a table the earn path writes).
Index(
    "ix_redemptions_program_created",
    _REDEMPTIONS.c.program_id,
    _REDEMPTIONS.c.created_at,
    postgresql_include=["reward_id", "points", "status"],
).ddl_if(dialect="postgresql")


class Snapshot(Base):
    """One program's rows of one kind for one calendar month (months since year 0; 0 for the
    member table), as compressed numpy columns: what the KPI summary reads instead of the
    orders, events and awards tables. Built by the job for the rows inside the `kpi_events` /
    `kpi_members` bounds in `analytics_rollups`; the rows outside them are read live. Money
    columns count orders in `currency` only, the program's currency when it was built."""

    __tablename__ = "analytics_snapshots"
    __table_args__ = (PrimaryKeyConstraint("program_id", "kind", "month"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(20))
    month: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    rows: Mapped[int] = mapped_column(Integer)
    # The earliest day its rows fall on (the summary's default start), None for no rows.
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[bytes] = mapped_column(LargeBinary)
