"""What the KPI statements share: typed parameters and the few expressions that differ between
SQLite and PostgreSQL (a timestamp's UTC day and month)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, TextClause, bindparam, text
from sqlalchemy.orm import Session

from punchcard.models.types import UTCDateTime

# Parameter names the statements use, with the type that binds them right on both drivers
# (datetimes go in as naive UTC, like the columns hold them).
_TYPES: dict[str, Any] = {
    "start": UTCDateTime(),
    "stop": UTCDateTime(),
    "since": UTCDateTime(),
    "a30": UTCDateTime(),
    "a90": UTCDateTime(),
    "cutoff": UTCDateTime(),
    "first": Date(),
    "last": Date(),
    "wm": BigInteger(),
    "old_id": BigInteger(),
    "new_id": BigInteger(),
    "old_until": UTCDateTime(),
    "new_until": UTCDateTime(),
    "mwm": BigInteger(),
    "wu": UTCDateTime(),
    "mwu": UTCDateTime(),
    "lo_at": UTCDateTime(),
    "hi_at": UTCDateTime(),
}


def statement(sql: str) -> TextClause:
    """A text statement whose known parameters carry their types."""
    used = set(re.findall(r"(?<!:):(\w+)", sql))
    params = [bindparam(name, type_=kind) for name, kind in _TYPES.items() if name in used]
    return text(sql).bindparams(*params)


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def tune(session: Session, *, isolation: bool = True) -> None:
    """The first statement of a KPI read. PostgreSQL: one snapshot for every statement of the
    transaction (REPEATABLE READ), so that the bounds of a rollup, read first, are those of the
    rollup rows read next whatever a job commits meanwhile (SQLite's read transaction holds one
    snapshot anyway); no JIT (compiling these plans costs more than running them), and room to
    hash the per-member sums in memory, for this transaction only."""
    if not is_sqlite(session):
        if isolation:
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def day_of(session: Session, column: str) -> str:
    if is_sqlite(session):
        return f"date({column})"
    return f"CAST({column} AS DATE)"


def money(value: Any) -> Decimal:
    """A sum of money as the driver returns it (a float on SQLite) to exact cents."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(round(float(value), 2)))


def integer(value: Any) -> int:
    return 0 if value is None else int(value)


def epoch_day(session: Session, column: str) -> str:
    """Days from 1970-01-01 to a timestamp's UTC day, as an integer."""
    if is_sqlite(session):
        return f"CAST(julianday(date({column})) - 2440587.5 AS INTEGER)"
    return f"(CAST({column} AS DATE) - DATE '1970-01-01')"


def joined_ids(session: Session, column: str) -> str:
    """An aggregate joining a group's integer ids into one comma-separated string: one row
    per group to fetch instead of one per id."""
    if is_sqlite(session):
        return f"group_concat({column}, ',')"
    return f"string_agg(CAST({column} AS TEXT), ',')"
