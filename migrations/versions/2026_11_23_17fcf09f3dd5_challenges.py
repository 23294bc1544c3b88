"""challenges and their per-member runs

Also lets a redemption be granted free (a challenge's catalog reward): 0 points and no
ledger debit, and only then.

Revision ID: 17fcf09f3dd5
Revises: 72cdbee8fcc3
Create Date: 2026-11-23 03:10:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "17fcf09f3dd5"
down_revision: str | None = "72cdbee8fcc3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_GRANTED = "(points > 0 AND transaction_id IS NOT NULL) OR (points = 0 AND transaction_id IS NULL)"


def _member_keys(table: str) -> list[Any]:
    return [
        sa.Column("program_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f(f"fk_{table}_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f(f"fk_{table}_program_id_programs")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_challenges_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.create_index("ix_challenges_program", ["program_id", "active", "id"])

    op.create_table(
        "challenge_runs",
        *_member_keys("challenge_runs"),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("progress >= 0", name=op.f("ck_challenge_runs_progress")),
        sa.CheckConstraint("run >= 1", name=op.f("ck_challenge_runs_run")),
        sa.CheckConstraint("step >= 0", name=op.f("ck_challenge_runs_step")),
        sa.PrimaryKeyConstraint(
            "program_id", "member_id", "challenge_id", "run", name=op.f("pk_challenge_runs")
        ),
    )
    with op.batch_alter_table("challenge_runs", schema=None) as batch_op:
        batch_op.create_index("ix_challenge_runs_challenge", ["challenge_id", "member_id"])

    op.create_table(
        "challenge_contributions",
        *_member_keys("challenge_contributions"),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("taken", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "amount >= 0 AND taken >= 0 AND taken <= amount",
            name=op.f("ck_challenge_contributions_amount"),
        ),
        sa.PrimaryKeyConstraint(
            "program_id",
            "member_id",
            "challenge_id",
            "run",
            "source_id",
            name=op.f("pk_challenge_contributions"),
        ),
    )
    with op.batch_alter_table("challenge_contributions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_challenge_contributions_order", ["program_id", "member_id", "order_id"]
        )

    op.create_table(
        "challenge_completions",
        *_member_keys("challenge_completions"),
        sa.Column("completed_at", UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("reward", sa.Text(), nullable=False),
        sa.Column("transaction_id", _ID, nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_challenge_completions_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "member_id", "challenge_id", "run", name=op.f("pk_challenge_completions")
        ),
    )
    with op.batch_alter_table("challenge_completions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_challenge_completions_challenge", ["challenge_id", "completed_at"]
        )

    # A challenge's catalog reward is a redemption at no cost: no points, no debit.
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.alter_column("transaction_id", existing_type=_ID, nullable=True)
        batch_op.drop_constraint(op.f("ck_redemptions_points"), type_="check")
        batch_op.create_check_constraint(op.f("ck_redemptions_points"), _GRANTED)


def downgrade() -> None:
    # Granted redemptions cannot live under the old rule: they go with the challenges.
    op.execute("DELETE FROM redemptions WHERE transaction_id IS NULL")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_redemptions_points"), type_="check")
        batch_op.create_check_constraint(op.f("ck_redemptions_points"), "points > 0")
        batch_op.alter_column("transaction_id", existing_type=_ID, nullable=False)

    for table, index in (
        ("challenge_completions", "ix_challenge_completions_challenge"),
        ("challenge_contributions", "ix_challenge_contributions_order"),
        ("challenge_runs", "ix_challenge_runs_challenge"),
        ("challenges", "ix_challenges_program"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
        op.drop_table(table)
