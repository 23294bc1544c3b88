"""SQL for members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import Member
from punchcard.models.base import table_of


@dataclass(frozen=True)
class MemberRow:
    id: int
    program_id: int
    external_id: str
    email: str | None
    phone: str | None
    name: str | None
    birthday: date | None
    channel: str
    card_number: str
    qr_token: str
    created_at: datetime
    updated_at: datetime
    # What the member chose in the portal: language tag (None: the browser's) and marketing
    # consent (None: never asked).
    locale: str | None = None
    marketing_consent: bool | None = None


_COLUMNS = tuple(getattr(Member, name) for name in MemberRow.__dataclass_fields__)


def insert_if_new(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless a unique key already holds the row; True when a row was written.
    ON CONFLICT makes two racing enrolments of one customer end with one member."""
    statement = insert_or_skip(session, table_of(Member)).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(Member.id)).scalar_one_or_none() is not None


def find_one(session: Session, program_id: int, **where: Any) -> MemberRow | None:
    query = select(*_COLUMNS).where(Member.program_id == program_id)
    for column, value in where.items():
        query = query.where(getattr(Member, column) == value)
    row = session.execute(query).one_or_none()
    return None if row is None else MemberRow(*row)


def page(
    session: Session, program_id: int, filters: dict[str, str], after_id: int, limit: int
) -> list[MemberRow]:
    query = (
        select(*_COLUMNS)
        .where(Member.program_id == program_id, Member.id > after_id)
        .order_by(Member.id)
        .limit(limit)
    )
    for column, value in filters.items():
        query = query.where(getattr(Member, column) == value)
    return [MemberRow(*row) for row in session.execute(query)]


def update_member(
    session: Session, program_id: int, member_id: int, values: dict[str, Any]
) -> None:
    session.execute(
        update(Member)
        .where(Member.program_id == program_id, Member.id == member_id)
        .values(**values)
    )


def ids_by_external_id(
    session: Session, program_id: int, external_ids: list[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        for external_id, member_id in session.execute(
            select(Member.external_id, Member.id).where(
                Member.program_id == program_id, Member.external_id.in_(chunk)
            )
        ):
            found[external_id] = member_id
    return found


def insert_many_if_new(session: Session, rows: list[dict[str, Any]]) -> None:
    session.execute(insert_or_skip(session, table_of(Member)).on_conflict_do_nothing(), rows)
