"""secondary indexes that do not start with program_id

The unique keys (program, source id), (program, order id) and (program, external id) share
their first column with these indexes. On tables the planner has no statistics for yet (a new
program, a fresh database) it judged both equally cheap and could pick the secondary one, then
read every row of the program to find one: an event's lookups grew with the number of events.
Member ids are unique on their own, so the member indexes lead with them instead.

Revision ID: 7c1e5a9d2b40
Revises: 34a00d41d522
Create Date: 2026-11-22 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c1e5a9d2b40"
down_revision: str | None = "34a00d41d522"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_member", table_name="events")
    op.create_index("ix_events_member", "events", ["member_id"])
    op.drop_index("ix_orders_member", table_name="orders")
    op.create_index("ix_orders_member", "orders", ["member_id", "placed_at"])
    op.drop_index("ix_members_program_id_email", table_name="members")
    op.create_index("ix_members_email", "members", ["email", "program_id"])
    op.drop_index("ix_members_program_id_phone", table_name="members")
    op.create_index("ix_members_phone", "members", ["phone", "program_id"])


def downgrade() -> None:
    op.drop_index("ix_members_phone", table_name="members")
    op.create_index("ix_members_program_id_phone", "members", ["program_id", "phone"])
    op.drop_index("ix_members_email", table_name="members")
    op.create_index("ix_members_program_id_email", "members", ["program_id", "email"])
    op.drop_index("ix_orders_member", table_name="orders")
    op.create_index("ix_orders_member", "orders", ["program_id", "member_id", "placed_at"])
    op.drop_index("ix_events_member", table_name="events")
    op.create_index("ix_events_member", "events", ["program_id", "member_id"])
