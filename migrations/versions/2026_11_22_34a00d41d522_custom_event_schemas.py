"""custom event schemas

Revision ID: 34a00d41d522
Revises: 5bb5edb29bac
Create Date: 2026-11-22 21:26:53.930139
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "34a00d41d522"
down_revision: str | None = "5bb5edb29bac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_schemas",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_event_schemas_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "type", name=op.f("pk_event_schemas")),
    )


def downgrade() -> None:
    op.drop_table("event_schemas")
