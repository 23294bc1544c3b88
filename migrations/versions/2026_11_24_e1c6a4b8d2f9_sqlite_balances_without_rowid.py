"""SQLite keeps the balances in their primary key's order, without a rowid

A table with a composite primary key is two B-trees on SQLite: the rows by a hidden rowid,
and the key's index pointing at them. Every earned event looks its member's balance up
through both and then updates the row: two pages to find, for a row of six integers.
`WITHOUT ROWID` stores the rows in the key's own B-tree, one lookup each (PostgreSQL has no
such option and needs none: its heap and index are reached the same way either way).
Measured on SQLite's batch earn (docs/performance.md, item 32).

SQLite changes this only by rebuilding the table (Alembic's batch mode copies the rows into
a new table and renames it); the balances have a row per member, so it takes little time.

Revision ID: e1c6a4b8d2f9
Revises: b5d9e2f7a1c3
Create Date: 2026-11-24 18:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e1c6a4b8d2f9"
down_revision: str | None = "b5d9e2f7a1c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "balances", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
