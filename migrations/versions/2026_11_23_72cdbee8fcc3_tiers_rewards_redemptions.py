"""tiers, the rewards catalog, causes and redemptions; pay-with-points settings

Revision ID: 72cdbee8fcc3
Revises: 7c1e5a9d2b40
Create Date: 2026-11-23 00:31:49.114437
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "72cdbee8fcc3"
down_revision: str | None = "7c1e5a9d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "causes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("impact_unit", sa.String(length=50), nullable=False),
        sa.Column("points_per_unit", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("points_per_unit > 0", name=op.f("ck_causes_points_per_unit")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_causes_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_causes")),
    )
    with op.batch_alter_table("causes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_causes_program_id"), ["program_id"], unique=False)

    op.create_table(
        "tier_policies",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("metric", sa.String(length=10), nullable=False),
        sa.Column("qualification_window", sa.String(length=20), nullable=False),
        sa.Column("downgrade", sa.String(length=20), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("tiers", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "downgrade IN ('one_down', 'recalculate')", name=op.f("ck_tier_policies_downgrade")
        ),
        sa.CheckConstraint("metric IN ('spend', 'points')", name=op.f("ck_tier_policies_metric")),
        sa.CheckConstraint(
            "qualification_window IN ('rolling_12_months', 'calendar_year', 'lifetime')",
            name=op.f("ck_tier_policies_qualification_window"),
        ),
        sa.CheckConstraint("grace_days >= 0", name=op.f("ck_tier_policies_grace_days")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_tier_policies_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_tier_policies")),
    )
    op.create_table(
        "member_tiers",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tier", sa.String(length=50), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_tiers_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_member_tiers_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "member_id", name=op.f("pk_member_tiers")),
    )
    with op.batch_alter_table("member_tiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_tiers_valid_until", ["program_id", "valid_until"], unique=False
        )

    op.create_table(
        "rewards",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("points_cost", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("cause_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("tiers", sa.Text(), nullable=True),
        sa.Column("channels", sa.Text(), nullable=True),
        sa.Column("code_valid_days", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "type IN ('discount_amount', 'discount_percent', 'free_shipping', 'free_product', 'experience', 'donation', 'gift_card')",
            name=op.f("ck_rewards_type"),
        ),
        sa.CheckConstraint(
            "per_member_limit IS NULL OR per_member_limit > 0", name=op.f("ck_rewards_per_member")
        ),
        sa.CheckConstraint("points_cost > 0", name=op.f("ck_rewards_points_cost")),
        sa.CheckConstraint(
            "stock IS NULL OR (claimed >= 0 AND claimed <= stock)", name=op.f("ck_rewards_stock")
        ),
        sa.ForeignKeyConstraint(
            ["cause_id"], ["causes.id"], name=op.f("fk_rewards_cause_id_causes")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_rewards_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index("ix_rewards_program", ["program_id", "id"], unique=False)

    op.create_table(
        "tier_changes",
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
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("from_tier", sa.String(length=50), nullable=True),
        sa.Column("to_tier", sa.String(length=50), nullable=True),
        sa.Column("metric_value", sa.String(length=40), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "change IN ('upgraded', 'downgraded', 'renewed', 'granted', 'revoked')",
            name=op.f("ck_tier_changes_change"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_tier_changes_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_tier_changes_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_changes")),
    )
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_changes_member", ["program_id", "member_id", "id"], unique=False
        )

    op.create_table(
        "redemptions",
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
        sa.Column("reward_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("cause_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "cancel_transaction_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_hint", sa.String(length=8), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("used_order_id", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('issued', 'used', 'expired', 'cancelled', 'reserved', 'completed')",
            name=op.f("ck_redemptions_status"),
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemptions_points")),
        sa.ForeignKeyConstraint(
            ["cancel_transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_redemptions_cancel_transaction_id_ledger_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["cause_id"], ["causes.id"], name=op.f("fk_redemptions_cause_id_causes")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_redemptions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_redemptions_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_redemptions_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_redemptions_code_hash")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_cause", ["cause_id", "member_id"], unique=False)
        batch_op.create_index("ix_redemptions_expiry", ["status", "code_expires_at"], unique=False)
        batch_op.create_index(
            "ix_redemptions_member", ["program_id", "member_id", "id"], unique=False
        )
        batch_op.create_index("ix_redemptions_reward", ["reward_id", "member_id"], unique=False)

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points_payment_rate", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "points_payment_max_percent", sa.Integer(), nullable=False, server_default="100"
            )
        )
        batch_op.create_check_constraint(
            "points_payment_rate", "points_payment_rate IS NULL OR points_payment_rate > 0"
        )
        batch_op.create_check_constraint(
            "points_payment_max_percent",
            "points_payment_max_percent > 0 AND points_payment_max_percent <= 100",
        )


def downgrade() -> None:
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_column("points_payment_max_percent")
        batch_op.drop_column("points_payment_rate")

    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_reward")
        batch_op.drop_index("ix_redemptions_member")
        batch_op.drop_index("ix_redemptions_expiry")
        batch_op.drop_index("ix_redemptions_cause")

    op.drop_table("redemptions")
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_changes_member")

    op.drop_table("tier_changes")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index("ix_rewards_program")

    op.drop_table("rewards")
    with op.batch_alter_table("member_tiers", schema=None) as batch_op:
        batch_op.drop_index("ix_member_tiers_valid_until")

    op.drop_table("member_tiers")
    op.drop_table("tier_policies")
    with op.batch_alter_table("causes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_causes_program_id"))

    op.drop_table("causes")
