"""events orders awards rules

Revision ID: 5bb5edb29bac
Revises: d83a75aec356
Create Date: 2026-11-22 20:22:10.546053
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "5bb5edb29bac"
down_revision: str | None = "d83a75aec356"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_budgets",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_rule_budgets_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "rule_id", name=op.f("pk_rule_budgets")),
    )
    op.create_table(
        "rule_sets",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_rule_sets_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "version", name=op.f("pk_rule_sets")),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("store_id", sa.String(length=100), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_events_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_events_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_events_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("program_id", "source_id", name=op.f("uq_events_program_id_source_id")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_member", ["program_id", "member_id"], unique=False)
        batch_op.create_index("ix_events_transaction_id", ["transaction_id"], unique=False)

    op.create_table(
        "awards",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("effect", sa.String(length=20), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reversed_points", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_awards_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_awards_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_awards_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_awards_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_awards")),
    )
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.create_index("ix_awards_event_id", ["event_id"], unique=False)
        batch_op.create_index(
            "ix_awards_member_rule",
            ["program_id", "member_id", "rule_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "orders",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("refunded_quantities", sa.Text(), nullable=False),
        sa.Column("refunded_values", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_orders_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_orders_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_orders_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_orders_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("program_id", "order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_member", ["program_id", "member_id", "placed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_member")

    op.drop_table("orders")
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_index("ix_awards_member_rule")
        batch_op.drop_index("ix_awards_event_id")

    op.drop_table("awards")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_transaction_id")
        batch_op.drop_index("ix_events_member")

    op.drop_table("events")
    op.drop_table("rule_sets")
    op.drop_table("rule_budgets")
