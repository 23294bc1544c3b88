"""leaderboards, scores and member leaderboard profiles

Revision ID: 10e4f5afe6f1
Revises: 20c5561ed309
Create Date: 2026-11-23 03:12:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "10e4f5afe6f1"
down_revision: str | None = "20c5561ed309"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leaderboards",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("metric", sa.String(length=10), nullable=False),
        sa.Column("challenge_id", ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "period IN ('week', 'month', 'all_time')", name=op.f("ck_leaderboards_period")
        ),
        sa.CheckConstraint(
            "metric IN ('points', 'challenge')", name=op.f("ck_leaderboards_metric")
        ),
        sa.CheckConstraint(
            "(metric = 'challenge' AND challenge_id IS NOT NULL) "
            "OR (metric = 'points' AND challenge_id IS NULL)",
            name=op.f("ck_leaderboards_challenge"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_leaderboards_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboards")),
    )
    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboards_program", ["program_id", "id"], unique=False)

    op.create_table(
        "leaderboard_profiles",
        sa.Column("program_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("display_name", sa.String(length=30), nullable=True),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "NOT opted_in OR display_name IS NOT NULL",
            name=op.f("ck_leaderboard_profiles_opted_in_named"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_leaderboard_profiles_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_leaderboard_profiles_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("program_id", "member_id", name=op.f("pk_leaderboard_profiles")),
    )

    op.create_table(
        "leaderboard_scores",
        sa.Column("leaderboard_id", ID, nullable=False),
        sa.Column("period_key", sa.String(length=10), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leaderboard_id"],
            ["leaderboards.id"],
            name=op.f("fk_leaderboard_scores_leaderboard_id_leaderboards"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_leaderboard_scores_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_leaderboard_scores_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint(
            "leaderboard_id", "period_key", "member_id", name=op.f("pk_leaderboard_scores")
        ),
    )
    with op.batch_alter_table("leaderboard_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leaderboard_scores_member", ["program_id", "member_id"], unique=False
        )
        batch_op.create_index(
            "ix_leaderboard_scores_rank",
            ["leaderboard_id", "period_key", "visible", sa.text("score DESC"), "member_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_scores_rank")
        batch_op.drop_index("ix_leaderboard_scores_member")
    op.drop_table("leaderboard_scores")
    op.drop_table("leaderboard_profiles")
    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboards_program")
    op.drop_table("leaderboards")
