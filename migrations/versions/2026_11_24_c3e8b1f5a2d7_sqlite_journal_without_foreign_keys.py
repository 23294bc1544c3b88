"""SQLite's journal loses its foreign keys too, as PostgreSQL's did in a7d2c9e4f613

SQLite checks a foreign key in-process, with a lookup of the parent's row for each key of
each row inserted: about 25 lookups for every earned order. Measured on the CDNOW import
(one writer, 69,579 orders), alternately with the keys enforced and not: 5.23 s against
4.88 s, a fifteenth of the import, and the same share of a batch. What the keys guarded is
guarded as on PostgreSQL (see a7d2c9e4f613): the journal is written only by the earn and
ledger services, each event's rows together; `punchcard ledger verify` checks that every
reference names an existing row of the same program and member; nothing deletes members,
programs or journal rows, and the balances keep their keys to both.

SQLite changes a table's keys only by rebuilding it (Alembic's batch mode: a new table, the
rows copied, the old one dropped, the new one renamed). The rebuild keeps the columns,
indexes, unique and check constraints; the append-only triggers, which go with the old
table, are created again from their stored text. `migrate.upgrade` runs SQLite's migrations
with the keys' enforcement off for its connection, as a rebuild needs: dropping a parent
table would otherwise delete (or refuse to delete) its children's rows first. The rebuild
copies every row of the journal once: on a large database, allow the time of that copy.

The downgrade puts the keys back (checked by `PRAGMA foreign_key_check` afterwards, which
fails the downgrade if a row names a parent that does not exist).

Revision ID: c3e8b1f5a2d7
Revises: a7d2c9e4f613
Create Date: 2026-11-24 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "c3e8b1f5a2d7"
down_revision: str | None = "a7d2c9e4f613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys() -> tuple[tuple[str, str, str], ...]:
    """(table, column, referred table) of every key, as the PostgreSQL migration lists them."""
    previous = context.script.get_revision("a7d2c9e4f613")
    assert previous is not None
    return tuple(previous.module.KEYS)


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _triggers(table: str) -> list[str]:
    return [
        str(sql)
        for (sql,) in op.get_bind().execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        )
    ]


def _rebuild(table: str, change: str) -> None:
    """`change`: "drop" the table's journal keys, or "create" them."""
    triggers = _triggers(table)
    keys = [(column, referred) for t, column, referred in _keys() if t == table]
    with op.batch_alter_table(table, recreate="always") as batch:
        for column, referred in keys:
            name = f"fk_{table}_{column}_{referred}"
            if change == "drop":
                batch.drop_constraint(name, type_="foreignkey")
            else:
                batch.create_foreign_key(name, referred, [column], ["id"])
    for sql in triggers:
        op.execute(sql)


def _tables() -> list[str]:
    return list(dict.fromkeys(table for table, _, _ in _keys()))


def upgrade() -> None:
    if not _sqlite():
        return
    for table in _tables():
        _rebuild(table, "drop")


def downgrade() -> None:
    if not _sqlite():
        return
    for table in _tables():
        _rebuild(table, "create")
    broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).all()
    if broken:
        raise RuntimeError(f"rows name parents that do not exist: {broken[:5]}")
