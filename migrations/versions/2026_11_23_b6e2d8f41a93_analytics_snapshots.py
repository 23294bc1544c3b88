"""monthly column snapshots for the KPI summary; the points rollup keeps the tier

`analytics_points_daily` is rebuilt empty with a tier column and the points rollup's bounds
dropped, so the next job run rolls the whole journal up again, per tier (a job, never the earn
path; reads add the rows outside the bounds meanwhile, so figures stay exact while it runs).
On PostgreSQL, BRIN indexes on the creation time of events and members find the snapshots'
live tail; they cost the earn path next to nothing, unlike a b-tree.

Revision ID: b6e2d8f41a93
Revises: 3d9a41c7e5b2
Create Date: 2026-11-23 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "b6e2d8f41a93"
down_revision: str | None = "3d9a41c7e5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _points_daily(tier: bool) -> None:
    key = ["program_id", "day", "channel", *(["tier"] if tier else []), "account"]
    op.create_table(
        "analytics_points_daily",
        sa.Column("program_id", BIG_ID, sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        *([sa.Column("tier", sa.String(50), nullable=False)] if tier else []),
        sa.Column("account", sa.String(30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def upgrade() -> None:
    op.create_table(
        "analytics_snapshots",
        sa.Column("program_id", BIG_ID, sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "kind", "month"),
    )
    op.drop_table("analytics_points_daily")
    _points_daily(tier=True)
    op.execute("DELETE FROM analytics_rollups")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_events_created", "events", ["created_at"], postgresql_using="brin")
        op.create_index("ix_members_created", "members", ["created_at"], postgresql_using="brin")
        op.create_index(
            "ix_redemptions_program_created",
            "redemptions",
            ["program_id", "created_at"],
            postgresql_include=["reward_id", "points", "status"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_redemptions_program_created", table_name="redemptions")
        op.drop_index("ix_members_created", table_name="members")
        op.drop_index("ix_events_created", table_name="events")
    op.drop_table("analytics_points_daily")
    _points_daily(tier=False)
    op.execute("DELETE FROM analytics_rollups")
    op.drop_table("analytics_snapshots")
