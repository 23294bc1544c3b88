"""the points rollup bounded by id and creation time, taken once running transactions ended

Revision ID: 3d9a41c7e5b2
Revises: 8e3f0a6c2b17
Create Date: 2026-11-23 07:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "3d9a41c7e5b2"
down_revision: str | None = "8e3f0a6c2b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rollup built by the id watermark alone may have missed rows: start it again.
    op.execute("DELETE FROM analytics_points_daily")
    op.execute("DELETE FROM analytics_rollups")
    with op.batch_alter_table("analytics_rollups") as batch:
        batch.add_column(sa.Column("rolled_until", UTCDateTime(), nullable=False))
        batch.add_column(sa.Column("horizon_xmax", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_ledger_transactions_created",
            "ledger_transactions",
            ["created_at"],
            postgresql_using="brin",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_ledger_transactions_created", table_name="ledger_transactions")
    with op.batch_alter_table("analytics_rollups") as batch:
        batch.drop_column("horizon_xmax")
        batch.drop_column("rolled_until")
