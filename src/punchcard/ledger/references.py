"""The journal's references, checked by `ledger verify` instead of foreign keys.

On PostgreSQL the tables every earning event writes carry no foreign keys: their checks were
a third of the database's work per event (migration a7d2c9e4f613). Nothing deletes members,
programs or journal rows, and the journal is written only by the services, each event's rows
together; this check proves, over the whole database, that every reference names an existing
row, and of the same program and member, which the foreign keys never compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, false, func, or_, select
from sqlalchemy.orm import Session

from punchcard.models import (
    Award,
    Event,
    LedgerTransaction,
    Lot,
    LotEntry,
    Member,
    Order,
    PendingCredit,
    Posting,
    Program,
)
from punchcard.models.base import table_of

EXAMPLES = 5  # row keys quoted in a violation's message


@dataclass(frozen=True)
class Reference:
    """`table.column` names a row of `parent` (by its id), which must exist and, where the
    parent has them, belong to the same program and the same member."""

    table: Table
    column: str
    parent: Table


_PROGRAMS, _MEMBERS = table_of(Program), table_of(Member)
_TX, _LOTS, _EVENTS = table_of(LedgerTransaction), table_of(Lot), table_of(Event)

# what each referencing column names; a row of the same member where the parent has one
_PARENTS: dict[str, Table] = {
    "program_id": _PROGRAMS,
    "member_id": _MEMBERS,
    "transaction_id": _TX,
    "resolved_transaction_id": _TX,
    "reverses_id": _TX,
    "lot_id": _LOTS,
    "event_id": _EVENTS,
}
_JOURNAL = (
    _TX,
    table_of(Posting),
    _LOTS,
    table_of(LotEntry),
    table_of(PendingCredit),
    _EVENTS,
    table_of(Order),
    table_of(Award),
)
REFERENCES: tuple[Reference, ...] = tuple(
    Reference(child, column, parent)
    for child in _JOURNAL
    for column, parent in _PARENTS.items()
    if column in child.c
)


def check(session: Session, program_id: int | None) -> Iterator[tuple[str, str]]:
    """(check name, message) for each reference that some rows break."""
    for ref in REFERENCES:
        broken = _broken(ref, program_id)
        count = session.execute(select(func.count()).select_from(broken.subquery())).scalar_one()
        if count:
            keys = session.execute(broken.limit(EXAMPLES)).scalars().all()
            quoted = ", ".join(str(k) for k in keys)
            parent = ref.parent.name
            yield (
                "references",
                f"{count} row(s) of {ref.table.name} name a {ref.column} that is not a row of "
                f"{parent}{_same(ref)} (first: {quoted})",
            )


def _same(ref: Reference) -> str:
    if "program_id" not in ref.parent.c:
        return ""
    if "member_id" in ref.parent.c:
        return " of the same program and member"
    return " of the same program"


def _broken(ref: Reference, program_id: int | None) -> Select[tuple[Any]]:
    child, parent = ref.table, ref.parent.alias("parent")
    key = next(iter(child.primary_key.columns))
    column = child.c[ref.column]
    mismatch: list[ColumnElement[bool]] = [parent.c.id.is_(None)]
    if "program_id" in parent.c:
        mismatch.append(parent.c.program_id.is_distinct_from(child.c.program_id))
    if "member_id" in parent.c:
        mismatch.append(parent.c.member_id.is_distinct_from(child.c.member_id))
    query = (
        select(key)
        .select_from(child.outerjoin(parent, parent.c.id == column))
        .where(column.is_not(None), or_(false(), *mismatch))
        .order_by(key)
    )
    return query if program_id is None else query.where(child.c.program_id == program_id)
