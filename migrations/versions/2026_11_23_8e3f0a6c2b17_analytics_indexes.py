"""indexes and rollups for the analytics KPIs

Revision ID: 8e3f0a6c2b17
Revises: 5b1c7e2a9d40
Create Date: 2026-11-23 06:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "8e3f0a6c2b17"
down_revision: str | None = "5b1c7e2a9d40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (name, table, columns, PostgreSQL INCLUDE columns)
INDEXES: list[tuple[str, str, list[str], list[str]]] = [
    ("ix_redemptions_used_order", "redemptions", ["program_id", "used_order_id"], []),
]


# Only PostgreSQL gets the index that serves the KPI scans: SQLite, planning without
# statistics, could take it for a member's own lookups. No index is added to the tables the
# earn path writes on every event (events, orders, ledger, awards): each one cost the HTTP
# earn path about a tenth of its throughput, for KPI scans that need rollups anyway.
SQLITE_TOO = {"ix_redemptions_used_order"}


def _wanted(name: str) -> bool:
    return name in SQLITE_TOO or op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "analytics_points_daily",
        sa.Column("program_id", BIG_ID, sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("account", sa.String(30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "day", "channel", "account"),
    )
    op.create_table(
        "analytics_rollups",
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("horizon_id", sa.BigInteger(), nullable=False),
        sa.Column("horizon_at", UTCDateTime(), nullable=False),
    )
    for name, table, columns, include in INDEXES:
        if _wanted(name):
            op.create_index(name, table, columns, postgresql_include=include)


def downgrade() -> None:
    for name, table, _columns, _include in reversed(INDEXES):
        if _wanted(name):
            op.drop_index(name, table_name=table)
    op.drop_table("analytics_rollups")
    op.drop_table("analytics_points_daily")
