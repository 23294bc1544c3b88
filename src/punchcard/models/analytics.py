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

from punchcard.models.award import Award
from punchcard.models.base import Base, table_of
from punchcard.models.event import Event
from punchcard.models.ledger_transaction import LedgerTransaction
from punchcard.models.member import Member
from punchcard.models.order import Order
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


_EVENTS = table_of(Event)
_ORDERS = table_of(Order)
_LEDGER = table_of(LedgerTransaction)
_MEMBERS = table_of(Member)
_AWARDS = table_of(Award)
_REDEMPTIONS = table_of(Redemption)

# The KPI scans' indexes exist on PostgreSQL only (see the migration): SQLite, planning
# without statistics, would take them for a member's own lookups.
# Active members: the events of the last 90 days, as a range of one index.
Index(
    "ix_events_program_time", _EVENTS.c.program_id, _EVENTS.c.occurred_at, _EVENTS.c.member_id
).ddl_if(dialect="postgresql")
# Orders of a range, with what the per-member sums need, without touching the table.
Index(
    "ix_orders_program_placed",
    _ORDERS.c.program_id,
    _ORDERS.c.placed_at,
    postgresql_include=["member_id", "total", "refunded_amount", "status", "event_id"],
).ddl_if(dialect="postgresql")
# Points by tier: the transactions of one member in a range, kind and points included.
Index(
    "ix_ledger_transactions_member_time",
    _LEDGER.c.program_id,
    _LEDGER.c.member_id,
    _LEDGER.c.occurred_at,
    postgresql_include=["kind", "points", "reverses_id"],
).ddl_if(dialect="postgresql")
Index(
    "ix_members_program_created",
    _MEMBERS.c.program_id,
    _MEMBERS.c.created_at,
    postgresql_include=["channel"],
).ddl_if(dialect="postgresql")
Index(
    "ix_awards_program_time",
    _AWARDS.c.program_id,
    _AWARDS.c.occurred_at,
    postgresql_include=["rule_id", "points", "reversed_points", "event_id"],
).ddl_if(dialect="postgresql")
# The rollup's live tail: the journal rows written since its time bound.
Index("ix_ledger_transactions_created", _LEDGER.c.created_at).ddl_if(dialect="postgresql")
Index("ix_redemptions_used_order", _REDEMPTIONS.c.program_id, _REDEMPTIONS.c.used_order_id)
