"""program settings for analytics (point value, expected breakage) and stored prediction models

Revision ID: 5b1c7e2a9d40
Revises: fd0a0776804e
Create Date: 2026-11-23 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "5b1c7e2a9d40"
down_revision: str | None = "fd0a0776804e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("point_value", sa.Numeric(12, 6), nullable=True))
        batch.add_column(sa.Column("expected_breakage", sa.Numeric(5, 4), nullable=True))
        batch.create_check_constraint("point_value", "point_value IS NULL OR point_value >= 0")
        batch.create_check_constraint(
            "expected_breakage",
            "expected_breakage IS NULL OR (expected_breakage >= 0 AND expected_breakage <= 1)",
        )
    op.create_table(
        "prediction_models",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("program_id", BIG_ID, sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_prediction_models_program", "prediction_models", ["program_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_prediction_models_program", table_name="prediction_models")
    op.drop_table("prediction_models")
    with op.batch_alter_table("programs") as batch:
        batch.drop_constraint("expected_breakage", type_="check")
        batch.drop_constraint("point_value", type_="check")
        batch.drop_column("expected_breakage")
        batch.drop_column("point_value")
