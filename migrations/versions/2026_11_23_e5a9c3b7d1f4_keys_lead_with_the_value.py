"""the earn path's unique keys lead with the value looked up, not with program_id

The keys (program, external id), (program, card number), (program, source id), (program, order
id) and (program, member) of members, events, orders, balances and member tiers led with
program_id. When
the statistics had never seen a program (a new program beside an established one, or any
program of a fresh database), the planner took `program_id = <id>` for a handful of rows,
searched the key by the program alone and checked a batch's keys against every row it
found: one batch of 1,000 events on a new program took 5 s, and batches on a fresh database
slowed down as the program grew. With the value first, no key can be walked for a whole
program, so a lookup stays a lookup. Uniqueness is the same: a key is a set of columns.
The members' e-mail and phone indexes lose their program_id for the same reason (with few
e-mails or phones, such an index is small enough to be walked whole for a program's rows),
and so does the member tiers' validity index (a planner that believes a program has one row
walks a whole index for it even when program_id comes second).

PostgreSQL only. SQLite keeps no statistics here (Punchcard never runs ANALYZE on it), so its
planner has nothing to be misled by; and on SQLite a key in a table's definition changes
only by rebuilding the table, which the tables that refer to members forbid while foreign
keys are enforced. The SQLite schema keeps the old column order and names.

Revision ID: e5a9c3b7d1f4
Revises: c4f1a7e9b3d2
Create Date: 2026-11-23 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e5a9c3b7d1f4"
down_revision: str | None = "c4f1a7e9b3d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old name, new name, old columns, kind); the new columns are the old ones reversed
KEYS = (
    ("members", "uq_members_program_id_external_id", "uq_members_external_id_program_id",
     ["program_id", "external_id"], "unique"),
    ("members", "uq_members_program_id_card_number", "uq_members_card_number_program_id",
     ["program_id", "card_number"], "unique"),
    ("events", "uq_events_program_id_source_id", "uq_events_source_id_program_id",
     ["program_id", "source_id"], "unique"),
    ("orders", "pk_orders", "pk_orders", ["program_id", "order_id"], "primary"),
    ("balances", "pk_balances", "pk_balances", ["program_id", "member_id"], "primary"),
    ("member_tiers", "pk_member_tiers", "pk_member_tiers", ["program_id", "member_id"], "primary"),
)  # fmt: skip


def _swap(table: str, drop: str, create: str, columns: list[str], kind: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(drop, type_=kind)
        if kind == "primary":
            batch.create_primary_key(create, columns)
        else:
            batch.create_unique_constraint(create, columns)


def _indexes(old: bool) -> None:
    for table, name, before, after in (
        ("members", "ix_members_email", ["email", "program_id"], ["email"]),
        ("members", "ix_members_phone", ["phone", "program_id"], ["phone"]),
        ("member_tiers", "ix_member_tiers_valid_until", ["program_id", "valid_until"],
         ["valid_until"]),
    ):  # fmt: skip
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before if old else after)


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    if not _postgres():
        return
    for table, old, new, columns, kind in KEYS:
        _swap(table, old, new, list(reversed(columns)), kind)
    _indexes(old=False)


def downgrade() -> None:
    if not _postgres():
        return
    _indexes(old=True)
    for table, old, new, columns, kind in reversed(KEYS):
        _swap(table, new, old, columns, kind)
