"""referral settings, codes, referrals, member signals

Revision ID: 43869bdf158f
Revises: 10e4f5afe6f1
Create Date: 2026-11-23 03:13:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "43869bdf158f"
down_revision: str | None = "10e4f5afe6f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "referral_settings",
        sa.Column("program_id", ID, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("referrer_points", sa.BigInteger(), nullable=False),
        sa.Column("referee_points", sa.BigInteger(), nullable=False),
        sa.Column("min_order_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("link_template", sa.String(length=500), nullable=True),
        sa.Column("max_referrals_per_week", sa.Integer(), nullable=True),
        sa.Column("max_referees_per_device", sa.Integer(), nullable=True),
        sa.Column("max_referees_per_address", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "referrer_points >= 0 AND referee_points >= 0",
            name=op.f("ck_referral_settings_points"),
        ),
        sa.CheckConstraint(
            "min_order_total >= 0", name=op.f("ck_referral_settings_min_order_total")
        ),
        sa.CheckConstraint(
            "(max_referrals_per_week IS NULL OR max_referrals_per_week > 0)"
            " AND (max_referees_per_device IS NULL OR max_referees_per_device > 0)"
            " AND (max_referees_per_address IS NULL OR max_referees_per_address > 0)",
            name=op.f("ck_referral_settings_limits"),
        ),
        _fk("referral_settings", "program_id", "programs"),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_referral_settings")),
    )

    op.create_table(
        "referral_codes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("referral_codes", "member_id", "members"),
        _fk("referral_codes", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("program_id", "code", name=op.f("uq_referral_codes_program_id_code")),
        sa.UniqueConstraint(
            "program_id", "member_id", name=op.f("uq_referral_codes_program_id_member_id")
        ),
    )

    op.create_table(
        "referrals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("referee_id", ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("referrer_points", sa.BigInteger(), nullable=False),
        sa.Column("referee_points", sa.BigInteger(), nullable=False),
        sa.Column("min_order_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("qualifying_order_id", sa.String(length=200), nullable=True),
        sa.Column("qualifying_event_id", sa.String(length=200), nullable=True),
        sa.Column("qualified_at", UTCDateTime(), nullable=True),
        sa.Column("referrer_transaction_id", ID, nullable=True),
        sa.Column("referee_transaction_id", ID, nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("rewarded_at", UTCDateTime(), nullable=True),
        sa.Column("voided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'review', 'rewarded', 'voided', 'rejected')",
            name=op.f("ck_referrals_status"),
        ),
        sa.CheckConstraint("referrer_id <> referee_id", name=op.f("ck_referrals_not_self")),
        sa.CheckConstraint(
            "referrer_points >= 0 AND referee_points >= 0", name=op.f("ck_referrals_points")
        ),
        _fk("referrals", "program_id", "programs"),
        _fk("referrals", "referee_id", "members"),
        _fk("referrals", "referrer_id", "members"),
        _fk("referrals", "referee_transaction_id", "ledger_transactions"),
        _fk("referrals", "referrer_transaction_id", "ledger_transactions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "program_id",
            "referee_id",
            "referrer_id",
            name=op.f("uq_referrals_program_id_referee_id_referrer_id"),
        ),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_referrer", ["program_id", "referrer_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_referrals_status", ["program_id", "status", "id"], unique=False)

    op.create_table(
        "member_signals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('device', 'payment', 'address')", name=op.f("ck_member_signals_kind")
        ),
        _fk("member_signals", "member_id", "members"),
        _fk("member_signals", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_signals")),
        sa.UniqueConstraint(
            "program_id",
            "member_id",
            "kind",
            "hash",
            name=op.f("uq_member_signals_program_id_member_id_kind_hash"),
        ),
    )
    with op.batch_alter_table("member_signals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_signals_hash", ["program_id", "kind", "hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_signals", schema=None) as batch_op:
        batch_op.drop_index("ix_member_signals_hash")
    op.drop_table("member_signals")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_status")
        batch_op.drop_index("ix_referrals_referrer")
    op.drop_table("referrals")
    op.drop_table("referral_codes")
    op.drop_table("referral_settings")
