"""share settings, share links, clicks and attributions

Revision ID: fd0a0776804e
Revises: 43869bdf158f
Create Date: 2026-11-23 03:14:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "fd0a0776804e"
down_revision: str | None = "43869bdf158f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "share_settings",
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("points_per_share", sa.Integer(), nullable=False),
        sa.Column("daily_cap_per_platform", sa.Integer(), nullable=False),
        sa.Column("earn_on", sa.String(length=10), nullable=False),
        sa.Column("platforms", sa.Text(), nullable=False),
        sa.Column("target_url", sa.String(length=2000), nullable=True),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("salt_day", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "points_per_share >= 0", name=op.f("ck_share_settings_points_per_share")
        ),
        sa.CheckConstraint("daily_cap_per_platform > 0", name=op.f("ck_share_settings_daily_cap")),
        sa.CheckConstraint("earn_on IN ('share', 'click')", name=op.f("ck_share_settings_earn_on")),
        sa.CheckConstraint("attribution_days > 0", name=op.f("ck_share_settings_attribution_days")),
        sa.CheckConstraint(
            "NOT active OR target_url IS NOT NULL", name=op.f("ck_share_settings_active_target")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_share_settings_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_share_settings")),
    )
    op.create_table(
        "share_links",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("target_url", sa.String(length=2000), nullable=False),
        sa.Column("target_hash", sa.String(length=64), nullable=False),
        sa.Column("share_count", sa.Integer(), nullable=False),
        sa.Column("shared_at", UTCDateTime(), nullable=False),
        sa.Column("share_day", sa.Date(), nullable=False),
        sa.Column("earn_status", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("earned_at", UTCDateTime(), nullable=True),
        sa.Column("earn_day", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("points >= 0", name=op.f("ck_share_links_points")),
        sa.CheckConstraint("share_count >= 0", name=op.f("ck_share_links_share_count")),
        sa.CheckConstraint(
            "earn_status IN ('earned', 'awaiting_click', 'daily_cap_reached', 'no_points')",
            name=op.f("ck_share_links_earn_status"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_share_links_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_share_links_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token", name=op.f("uq_share_links_token")),
        sa.UniqueConstraint(
            "program_id",
            "member_id",
            "platform",
            "target_hash",
            name=op.f("uq_share_links_program_id_member_id_platform_target_hash"),
        ),
    )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_share_links_cap", ["program_id", "member_id", "platform", "earn_day"], unique=False
        )
        batch_op.create_index(
            "ix_share_links_member", ["program_id", "member_id", "id"], unique=False
        )

    op.create_table(
        "share_clicks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("share_id", BIG_ID, nullable=False),
        sa.Column("clicked_at", UTCDateTime(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_share_clicks_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_share_clicks_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["share_links.id"], name=op.f("fk_share_clicks_share_id_share_links")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_clicks")),
    )
    with op.batch_alter_table("share_clicks", schema=None) as batch_op:
        batch_op.create_index("ix_share_clicks_share", ["share_id", "clicked_at"], unique=False)

    op.create_table(
        "share_attributions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("share_id", BIG_ID, nullable=False),
        sa.Column("sharer_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("refunded", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("clicked_at", UTCDateTime(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('signup', 'order')", name=op.f("ck_share_attributions_kind")),
        sa.CheckConstraint(
            "status IN ('attributed', 'rejected')", name=op.f("ck_share_attributions_status")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_share_attributions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_share_attributions_program_id_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["share_links.id"],
            name=op.f("fk_share_attributions_share_id_share_links"),
        ),
        sa.ForeignKeyConstraint(
            ["sharer_id"], ["members.id"], name=op.f("fk_share_attributions_sharer_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_attributions")),
        sa.UniqueConstraint(
            "program_id",
            "member_id",
            "kind",
            "order_id",
            name=op.f("uq_share_attributions_program_id_member_id_kind_order_id"),
        ),
    )
    with op.batch_alter_table("share_attributions", schema=None) as batch_op:
        batch_op.create_index("ix_share_attributions_share", ["share_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_attributions", schema=None) as batch_op:
        batch_op.drop_index("ix_share_attributions_share")
    op.drop_table("share_attributions")
    with op.batch_alter_table("share_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_share_clicks_share")
    op.drop_table("share_clicks")
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_index("ix_share_links_member")
        batch_op.drop_index("ix_share_links_cap")
    op.drop_table("share_links")
    op.drop_table("share_settings")
