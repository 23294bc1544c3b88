"""badges, member badges, streaks and member streaks

Revision ID: 20c5561ed309
Revises: 17fcf09f3dd5
Create Date: 2026-11-23 03:11:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "20c5561ed309"
down_revision: str | None = "17fcf09f3dd5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badges",
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
        sa.Column("image_url", sa.String(length=2000), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('order_count', 'event_count', 'member_years', 'tier_reached', 'donations', 'manual')",
            name=op.f("ck_badges_kind"),
        ),
        sa.CheckConstraint("points IS NULL OR points > 0", name=op.f("ck_badges_points")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_badges_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
    )
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.create_index("ix_badges_program", ["program_id", "id"], unique=False)

    op.create_table(
        "streaks",
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
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("bonuses", sa.Text(), nullable=False),
        sa.Column("repeat_every", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("period IN ('day', 'week')", name=op.f("ck_streaks_period")),
        sa.CheckConstraint(
            "repeat_every IS NULL OR repeat_every > 0", name=op.f("ck_streaks_repeat_every")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_streaks_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streaks")),
    )
    with op.batch_alter_table("streaks", schema=None) as batch_op:
        batch_op.create_index("ix_streaks_program", ["program_id", "id"], unique=False)

    op.create_table(
        "member_badges",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("badge_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("awarded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("points >= 0", name=op.f("ck_member_badges_points")),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_member_badges_badge_id_badges")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_badges_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_member_badges_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_badges")),
        sa.UniqueConstraint(
            "program_id",
            "badge_id",
            "member_id",
            name=op.f("uq_member_badges_program_id_badge_id_member_id"),
        ),
    )
    with op.batch_alter_table("member_badges", schema=None) as batch_op:
        batch_op.create_index("ix_member_badges_member", ["program_id", "member_id"], unique=False)

    op.create_table(
        "member_streaks",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "streak_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("current_length", sa.Integer(), nullable=False),
        sa.Column("best_length", sa.Integer(), nullable=False),
        sa.Column("last_period_start", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "best_length >= current_length", name=op.f("ck_member_streaks_best_length")
        ),
        sa.CheckConstraint("current_length >= 1", name=op.f("ck_member_streaks_current_length")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_streaks_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_member_streaks_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["streak_id"], ["streaks.id"], name=op.f("fk_member_streaks_streak_id_streaks")
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "member_id", "streak_id", name=op.f("pk_member_streaks")
        ),
    )
    op.create_table(
        "streak_bonuses",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "streak_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("awarded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_streak_bonuses_points")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_streak_bonuses_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_streak_bonuses_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["streak_id"], ["streaks.id"], name=op.f("fk_streak_bonuses_streak_id_streaks")
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "member_id", "streak_id", "period_start", name=op.f("pk_streak_bonuses")
        ),
    )


def downgrade() -> None:
    op.drop_table("streak_bonuses")
    op.drop_table("member_streaks")
    with op.batch_alter_table("member_badges", schema=None) as batch_op:
        batch_op.drop_index("ix_member_badges_member")

    op.drop_table("member_badges")
    with op.batch_alter_table("streaks", schema=None) as batch_op:
        batch_op.drop_index("ix_streaks_program")

    op.drop_table("streaks")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_index("ix_badges_program")

    op.drop_table("badges")
