"""the browser interfaces: admin users, members' one-time sign-in codes, the outbox, a
member's language and marketing consent, and the points' name per language

Revision ID: c4f1a7e9b3d2
Revises: b6e2d8f41a93
Create Date: 2026-11-23 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from punchcard.models.types import UTCDateTime

revision: str = "c4f1a7e9b3d2"
down_revision: str | None = "b6e2d8f41a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_users",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.Column("sessions_valid_after", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("email", name="uq_admin_users_email"),
    )
    op.create_table(
        "login_codes",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", BIG_ID, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("browser", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_codes_member", "login_codes", ["member_id", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("program_id", BIG_ID, sa.ForeignKey("programs.id"), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"])
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("locale", sa.String(10), nullable=True))
        batch.add_column(sa.Column("marketing_consent", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("sessions_valid_after", UTCDateTime(), nullable=True))
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("points_names", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("points_names")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("sessions_valid_after")
        batch.drop_column("marketing_consent")
        batch.drop_column("locale")
    op.drop_index("ix_outbox_pending", "outbox")
    op.drop_table("outbox")
    op.drop_index("ix_login_codes_member", "login_codes")
    op.drop_table("login_codes")
    op.drop_table("admin_users")
