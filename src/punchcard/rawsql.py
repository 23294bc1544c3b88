"""Plain DB-API access for the hot paths: earning on `POST /v1/events`, batches and imports.

SQLAlchemy costs tens of microseconds of Python per statement and per row; on the earn path
that is most of the time an event takes (see docs/performance.md). These helpers run
hand-written SQL on the driver connection of the caller's session, so the transaction, the
SQLite writer lock and the commit stay where they were, and add the few things the hot path
needs: statements written once with `?` placeholders for both drivers, ids allocated before
the rows are written (so every row of an event can go out in one batch), PostgreSQL's
pipeline mode (many statements, one round trip) and COPY for bulk rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from punchcard.db import READ_ONLY

Row = tuple[Any, ...]
COPY_THRESHOLD = 64  # rows; fewer go through executemany, which also works in a pipeline
# (host, port, database, table) -> column -> type oid, for binary COPY (`Raw._column_types`)
_COLUMN_TYPES: dict[tuple[str, int, str, str], dict[str, int]] = {}


@lru_cache(maxsize=512)
def _for_psycopg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


@contextmanager
def driver_errors(connection: Connection) -> Iterator[None]:
    """Driver errors become SQLAlchemy's (so the API answers 503 for a database that is down
    and 409 for a conflict, as on every other path); a lost connection also drops the pool,
    whose other connections died with it, as SQLAlchemy itself does."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        lost = connection.dialect.is_disconnect(exc, connection.connection.driver_connection, None)
        if lost:
            connection.invalidate()
            connection.engine.dispose(close=False)
        raise DBAPIError.instance(
            None, None, exc, dbapi.Error, connection_invalidated=lost
        ) from exc


@lru_cache(maxsize=4096)
def _sqlite_text(value: datetime) -> str:
    """Cached: imports and batches repeat the same instants (a day's orders, `now`)."""
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return naive.isoformat(" ", "microseconds")  # zero-padded years, unlike strftime's %Y


def serial_sequence(table: str) -> str:
    """SQL for the sequence of `table`'s id, looked up once per statement: written as a
    plain argument of nextval, `pg_get_serial_sequence` is a catalog lookup for every id
    drawn, and 5,000 ids took 11 ms instead of 2 (three sequences a batch: a sixth of
    PostgreSQL's work in an import)."""
    return f"(SELECT pg_get_serial_sequence('{table}', 'id')::regclass)"


class Raw:
    """The driver connection of a session's transaction, spoken to in its own dialect."""

    def __init__(self, session: Session | None = None, *, connection: Connection | None = None):
        if connection is None:
            assert session is not None
            connection = session.connection()
        self._connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.conn: Any = connection.connection.driver_connection

    @contextmanager
    def beside(self) -> Iterator[Raw]:
        """Another connection of the pool, in a transaction of its own committed at the end:
        for writes that must not wait for, nor hold locks until, the caller's commit. Always a
        writer's, even beside a read-only connection (SQLite then takes its write lock)."""
        engine = self._connection.engine.execution_options(**{READ_ONLY: False})
        with engine.begin() as connection:
            yield Raw(connection=connection)

    def guard(self) -> AbstractContextManager[None]:
        return driver_errors(self._connection)

    def _sql(self, sql: str) -> str:
        return _for_psycopg(sql) if self.postgres else sql

    def cursor(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Execute and hand back the cursor, so that inside a pipeline the rows are read only
        after the round trip that brought them."""
        with self.guard():
            cursor = self.conn.cursor()
            cursor.execute(self._sql(sql), params)
        return cursor

    def many(self, sql: str, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        with self.guard():
            cursor = self.conn.cursor()
            cursor.executemany(self._sql(sql), rows)
        return int(cursor.rowcount)

    def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Row], *, exact: bool = False
    ) -> None:
        """Many rows into one table: COPY on PostgreSQL when there are many, else one
        multi-row executemany. `exact`: every value already has its column's Python type
        (int, str, naive datetime, Decimal, None), so the COPY can be binary, which formats a
        row in half the time of text (no escaping, no numbers turned into digits) and that
        PostgreSQL parses faster too; text COPY takes any value its type's dumper knows."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres and len(rows) >= COPY_THRESHOLD and not self.in_pipeline:
            types = self._column_types(table, columns) if exact else None
            binary = " (FORMAT BINARY)" if types else ""
            with (
                self.guard(),
                self.conn.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN{binary}") as copy,
            ):
                if types:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.many(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def _column_types(self, table: str, columns: Sequence[str]) -> list[int]:
        """The columns' type oids, which a binary COPY must be told: read from the catalog
        once per database and table, since a type's oid is the database's own. Kept for the
        life of the process, like the rule and program caches: a migration that changes a
        journal column's type is followed by a restart (`serve` refuses an older schema)."""
        key = (self.conn.info.host, self.conn.info.port, self.conn.info.dbname, table)
        found = _COLUMN_TYPES.get(key)
        if found is None:
            with self.guard():
                rows = self.conn.execute(
                    "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped",
                    (table,),
                ).fetchall()
            found = _COLUMN_TYPES[key] = {name: int(oid) for name, oid in rows}
        return [found[c] for c in columns]

    def money(self, value: Decimal) -> Any:
        """An amount as a numeric column takes it: psycopg takes the Decimal, SQLite its
        text (it has no decimal type, and a float would round it)."""
        return value if self.postgres else str(value)

    @property
    def in_pipeline(self) -> bool:
        return self.postgres and self.conn.pgconn.pipeline_status != 0  # 0: off

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """PostgreSQL sends everything issued inside at once and reads the answers together;
        `fetchall()` on a cursor issued inside works after the block."""
        if not self.postgres:
            with self.guard():
                yield
            return
        with self.guard(), self.conn.pipeline():
            yield

    def any_of(self, column: str, cast: str = "") -> str:
        """`column` is one of a list given as a single parameter, a JSON array (`listed`).
        PostgreSQL unpacks it once into an array (the `ARRAY(...)` is an init plan), so the
        lookup is the same index scan as `= ANY(%s)` with an array parameter; the driver
        then sends one string instead of dumping a list in Python element by element, which
        was a twentieth of an import's time. `cast`: the elements' type where the column is
        not text (e.g. "bigint")."""
        if self.postgres:
            element = "json_array_elements_text(?::json)" + (f"::{cast}" if cast else "")
            return f"{column} = ANY(ARRAY(SELECT {element}))"
        return f"{column} IN (SELECT value FROM json_each(?))"

    def listed(self, values: Sequence[Any]) -> str:
        return orjson.dumps(list(values)).decode()

    def ids_cursor(self, table: str, count: int) -> Any:
        """Ask for `count` fresh ids of `table`, before its rows are written (read them with
        `drawn_ids`, after the pipeline if there is one). PostgreSQL draws them from the
        column's sequence; SQLite, whose single writer holds the database lock for the whole
        transaction, continues from the largest id."""
        if self.postgres:
            sequence = serial_sequence(table)
            return self.cursor(f"SELECT nextval({sequence}) FROM generate_series(1, ?)", (count,))
        return self.cursor(f"SELECT coalesce(max(id), 0) FROM {table}")

    def drawn_ids(self, cursor: Any, count: int) -> list[int]:
        with self.guard():
            rows = cursor.fetchall()
        if self.postgres:
            return [int(r[0]) for r in rows]
        top = int(rows[0][0])
        return list(range(top + 1, top + 1 + count))

    def moment(self, value: datetime | None) -> Any:
        """A UTC instant as the columns store it: naive UTC (PostgreSQL), or SQLAlchemy's
        SQLite text form, which its range comparisons rely on."""
        if value is None:
            return None
        if self.postgres:
            return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return _sqlite_text(value)

    def read_moment(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
