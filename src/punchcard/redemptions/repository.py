"""Every SQL statement of redemptions: the stock claim, the redemption rows and their reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import rowcount
from punchcard.models import Cause, Member, Redemption, Reward
from punchcard.models.base import table_of


@dataclass(frozen=True)
class RedemptionRow:
    id: int
    program_id: int
    member_id: int
    reward_id: int | None
    cause_id: int | None
    type: str
    points: int
    value: str | None
    status: str
    transaction_id: int | None  # None: granted free (no debit)
    cancel_transaction_id: int | None
    code_hint: str | None
    code_expires_at: datetime | None
    used_at: datetime | None
    used_order_id: str | None
    cancelled_at: datetime | None
    details: dict[str, Any] | None
    created_at: datetime


_COLUMNS = (
    Redemption.id,
    Redemption.program_id,
    Redemption.member_id,
    Redemption.reward_id,
    Redemption.cause_id,
    Redemption.type,
    Redemption.points,
    Redemption.value,
    Redemption.status,
    Redemption.transaction_id,
    Redemption.cancel_transaction_id,
    Redemption.code_hint,
    Redemption.code_expires_at,
    Redemption.used_at,
    Redemption.used_order_id,
    Redemption.cancelled_at,
    Redemption.details,
    Redemption.created_at,
)


def _row(raw: Any) -> RedemptionRow:
    values = list(raw)
    values[16] = json.loads(values[16]) if values[16] else None
    return RedemptionRow(*values)


# Stock is claimed by the database, not by Python: the guarded update either takes one unit
# or touches nothing, and the CHECK (claimed <= stock) backs it up.
_CLAIM = (
    update(Reward)
    .where(
        Reward.id == bindparam("r"),
        Reward.program_id == bindparam("p"),
        Reward.stock.is_(None) | (Reward.claimed < Reward.stock),
    )
    .values(claimed=Reward.claimed + 1)
)
_RELEASE = (
    update(Reward)
    .where(Reward.id == bindparam("r"), Reward.program_id == bindparam("p"), Reward.claimed > 0)
    .values(claimed=Reward.claimed - 1)
)
# One statement whatever the code: an unknown, expired and cancelled code cost the same.
_BY_CODE = select(*_COLUMNS).where(
    Redemption.code_hash == bindparam("h"), Redemption.program_id == bindparam("p")
)


def claim_stock(session: Session, program_id: int, reward_id: int) -> bool:
    return rowcount(session.execute(_CLAIM, {"r": reward_id, "p": program_id})) == 1


def release_stock(session: Session, program_id: int, reward_id: int) -> None:
    session.execute(_RELEASE, {"r": reward_id, "p": program_id})


def reward_details(session: Session, program_id: int, reward_id: int) -> dict[str, Any] | None:
    """The reward's type-specific details (an experience's start and place), as JSON."""
    raw = session.execute(
        select(Reward.details).where(Reward.id == reward_id, Reward.program_id == program_id)
    ).scalar_one_or_none()
    return json.loads(raw) if raw else None


@dataclass(frozen=True)
class CauseView:
    id: int
    name: str
    impact_unit: str
    points_per_unit: int
    active: bool


def get_cause(session: Session, program_id: int, cause_id: int) -> CauseView | None:
    row = session.execute(
        select(Cause.id, Cause.name, Cause.impact_unit, Cause.points_per_unit, Cause.active).where(
            Cause.id == cause_id, Cause.program_id == program_id
        )
    ).one_or_none()
    return None if row is None else CauseView(row[0], row[1], row[2], row[3], bool(row[4]))


def insert_redemption(session: Session, values: dict[str, Any]) -> int:
    values = {**values, "details": json.dumps(values["details"]) if values["details"] else None}
    return int(
        session.execute(
            insert(table_of(Redemption)).values(**values).returning(Redemption.id)
        ).scalar_one()
    )


def get(
    session: Session, program_id: int, member_id: int, redemption_id: int
) -> RedemptionRow | None:
    row = session.execute(
        select(*_COLUMNS).where(
            Redemption.id == redemption_id,
            Redemption.program_id == program_id,
            Redemption.member_id == member_id,
        )
    ).one_or_none()
    return None if row is None else _row(row)


def by_code(session: Session, program_id: int, code_hash: str) -> RedemptionRow | None:
    row = session.execute(_BY_CODE, {"h": code_hash, "p": program_id}).one_or_none()
    return None if row is None else _row(row)


def mark_used(session: Session, redemption_id: int, order_id: str, now: datetime) -> bool:
    """Guarded: of racing checkouts of one code, exactly one turns it from issued to used."""
    result = session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption_id,
            Redemption.status == "issued",
            Redemption.code_expires_at > now,
        )
        .values(status="used", used_order_id=order_id, used_at=now, updated_at=now)
    )
    return rowcount(result) == 1


def mark_cancelled(
    session: Session, redemption_id: int, was: str, cancel_tx: int | None, now: datetime
) -> bool:
    """Guarded on the status the cancellation saw: a checkout that got there first wins."""
    result = session.execute(
        update(Redemption)
        .where(Redemption.id == redemption_id, Redemption.status == was)
        .values(
            status="cancelled", cancel_transaction_id=cancel_tx, cancelled_at=now, updated_at=now
        )
    )
    return rowcount(result) == 1


def set_code(
    session: Session, redemption_id: int, code_hash: str, hint: str, now: datetime
) -> bool:
    """The code of a granted reward, made when the member first asks for it; guarded so
    that it is made once."""
    result = session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption_id,
            Redemption.status == "issued",
            Redemption.code_hash.is_(None),
            Redemption.points == 0,
        )
        .values(code_hash=code_hash, code_hint=hint, updated_at=now)
    )
    return rowcount(result) == 1


def page_for_member(
    session: Session, program_id: int, member_id: int, *, before_id: int | None, limit: int
) -> list[RedemptionRow]:
    query = (
        select(*_COLUMNS)
        .where(Redemption.program_id == program_id, Redemption.member_id == member_id)
        .order_by(Redemption.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Redemption.id < before_id)
    return [_row(r) for r in session.execute(query).all()]


@dataclass(frozen=True)
class AttendeeRow:
    redemption_id: int
    member_id: int
    external_id: str
    name: str | None
    status: str
    reserved_at: datetime


def attendees(
    session: Session, program_id: int, reward_id: int, *, after_id: int | None, limit: int
) -> list[AttendeeRow]:
    query = (
        select(
            Redemption.id,
            Redemption.member_id,
            Member.external_id,
            Member.name,
            Redemption.status,
            Redemption.created_at,
        )
        .join(Member, Member.id == Redemption.member_id)
        .where(
            Redemption.program_id == program_id,
            Redemption.reward_id == reward_id,
            Redemption.status.in_(("reserved", "used")),
        )
        .order_by(Redemption.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(Redemption.id > after_id)
    return [AttendeeRow(*r) for r in session.execute(query).all()]


@dataclass
class DonationSum:
    cause_id: int
    name: str
    impact_unit: str
    points: int = 0
    donations: int = 0
    values: list[str] = field(default_factory=list)


def donations_by_cause(
    session: Session, program_id: int, member_id: int | None = None
) -> list[DonationSum]:
    """Completed donations per cause, of one member or of the whole program. Impact is the sum
    of what each donation recorded, so a later change of a cause's rate rewrites no history."""
    query = (
        select(Cause.id, Cause.name, Cause.impact_unit, Redemption.points, Redemption.value)
        .join(Cause, Cause.id == Redemption.cause_id)
        .where(
            Redemption.program_id == program_id,
            Redemption.type == "donation",
            Redemption.status == "completed",
        )
        .order_by(Redemption.cause_id, Redemption.id)
    )
    if member_id is not None:
        query = query.where(Redemption.member_id == member_id)
    sums: dict[int, DonationSum] = {}
    for cause_id, name, unit, points, value in session.execute(query).all():
        entry = sums.setdefault(cause_id, DonationSum(cause_id, name, unit))
        entry.points += points
        entry.donations += 1
        entry.values.append(value or "0")
    return list(sums.values())


def expire_batch(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Mark up to `limit` codes past their date as expired: (codes found, codes expired).
    Guarded, so racing jobs and checkouts never both change one code."""
    due = (
        select(Redemption.id)
        .where(Redemption.status == "issued", Redemption.code_expires_at <= now)
        .order_by(Redemption.code_expires_at, Redemption.id)
        .limit(limit)
    )
    ids = [int(i) for i in session.execute(due).scalars().all()]
    if not ids:
        return 0, 0
    result = session.execute(
        update(Redemption)
        .where(Redemption.id.in_(ids), Redemption.status == "issued")
        .values(status="expired", updated_at=now)
    )
    return len(ids), rowcount(result)
