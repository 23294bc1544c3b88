"""postings lose their index by member and account

Every earned event writes two postings, and each put an entry in `ix_postings_member_account`
at the member's place in it: with many members, a page of its own to change and to write for
nearly every event. Nothing reads postings by member: a member's history is read by its
transactions (`ix_ledger_transactions_member`), then their postings by transaction
(`ix_postings_transaction_id`); `punchcard ledger verify` sums every posting of a program in
one pass, grouped in memory. Measured on SQLite's batch earn (docs/performance.md, item 32).

Revision ID: b5d9e2f7a1c3
Revises: c3e8b1f5a2d7
Create Date: 2026-11-24 18:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b5d9e2f7a1c3"
down_revision: str | None = "c3e8b1f5a2d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_postings_member_account", table_name="postings")


def downgrade() -> None:
    op.create_index(
        "ix_postings_member_account", "postings", ["program_id", "member_id", "account"]
    )
