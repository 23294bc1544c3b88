"""the journal's rows are checked by `ledger verify`, not by a foreign key at every insert

Every earning event inserts a transaction, its postings, a lot and its entry, the event, the
order, its awards and (with a return window) a pending credit: eight rows that named their
program, member, transaction, lot or event through 24 foreign keys. PostgreSQL checks each one
with a query of its own that also locks the parent row (FOR KEY SHARE), so every event locked
the program's one row and the member's row several times over, and with several transactions
at once on one program those locks become MultiXacts. Measured under HTTP earn, alternately:
the checks were 0.14-0.16 ms of PostgreSQL's 0.43-0.47 ms of CPU per event (a third), and
throughput rose by about 17% without them.

What the keys guarded is still guarded:
- a row inserted with a parent that does not exist: the journal is written only by the earn
  and ledger services, each event's rows in one statement or one transaction with ids drawn
  together; `punchcard ledger verify` now also checks that every reference of these tables
  names an existing row of the same program and member (stronger than the keys, which did
  not compare program and member);
- a parent deleted from under its rows: nothing in Punchcard deletes members, programs or
  journal rows, and each member's balance row keeps its foreign keys to the member and the
  program, so neither can be deleted while the member has a balance.

The index on `reverses_id` becomes partial: only corrections have one, and every earn
inserted a NULL into it.

The downgrade creates the keys again, which PostgreSQL checks against every row: run
`punchcard ledger verify` first, since a row it reports would make the downgrade fail.

PostgreSQL only, like the keys' reordering before it: SQLite checks its keys in-process at a
fraction of the cost, has no express lane, and changes a table's keys only by rebuilding it,
which the tables that refer to these refuse while keys are enforced.

Revision ID: a7d2c9e4f613
Revises: e5a9c3b7d1f4
Create Date: 2026-11-24 00:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7d2c9e4f613"
down_revision: str | None = "e5a9c3b7d1f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table) of every key dropped
KEYS = (
    ("ledger_transactions", "program_id", "programs"),
    ("ledger_transactions", "member_id", "members"),
    ("ledger_transactions", "reverses_id", "ledger_transactions"),
    ("postings", "program_id", "programs"),
    ("postings", "member_id", "members"),
    ("postings", "transaction_id", "ledger_transactions"),
    ("lots", "program_id", "programs"),
    ("lots", "member_id", "members"),
    ("lots", "transaction_id", "ledger_transactions"),
    ("lot_entries", "program_id", "programs"),
    ("lot_entries", "member_id", "members"),
    ("lot_entries", "transaction_id", "ledger_transactions"),
    ("lot_entries", "lot_id", "lots"),
    ("pending_credits", "program_id", "programs"),
    ("pending_credits", "member_id", "members"),
    ("pending_credits", "transaction_id", "ledger_transactions"),
    ("pending_credits", "resolved_transaction_id", "ledger_transactions"),
    ("events", "program_id", "programs"),
    ("events", "member_id", "members"),
    ("events", "transaction_id", "ledger_transactions"),
    ("orders", "program_id", "programs"),
    ("orders", "member_id", "members"),
    ("orders", "event_id", "events"),
    ("orders", "transaction_id", "ledger_transactions"),
    ("awards", "program_id", "programs"),
    ("awards", "member_id", "members"),
    ("awards", "event_id", "events"),
    ("awards", "transaction_id", "ledger_transactions"),
)


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    if not _postgres():
        return
    for table, column, referred in KEYS:
        op.drop_constraint(_name(table, column, referred), table, type_="foreignkey")
    op.drop_index("ix_ledger_transactions_reverses_id", table_name="ledger_transactions")
    op.create_index(
        "ix_ledger_transactions_reverses_id",
        "ledger_transactions",
        ["reverses_id"],
        postgresql_where="reverses_id IS NOT NULL",
    )


def downgrade() -> None:
    if not _postgres():
        return
    op.drop_index("ix_ledger_transactions_reverses_id", table_name="ledger_transactions")
    op.create_index("ix_ledger_transactions_reverses_id", "ledger_transactions", ["reverses_id"])
    for table, column, referred in KEYS:
        op.create_foreign_key(_name(table, column, referred), table, referred, [column], ["id"])
