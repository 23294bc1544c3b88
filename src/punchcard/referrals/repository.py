"""Every SQL statement of referrals."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip
from punchcard.models import Order, PendingCredit
from punchcard.models.base import table_of
from punchcard.models.referral import MemberSignal, Referral, ReferralCode, ReferralSettings
from punchcard.referrals.domain import Settings, SignalKind, Status

# --- settings --------------------------------------------------------------------------------

_SETTING_NAMES = tuple(f.name for f in fields(Settings))


def get_settings(session: Session, program_id: int) -> Settings | None:
    columns = [getattr(ReferralSettings, name) for name in _SETTING_NAMES]
    row = session.execute(
        select(*columns).where(ReferralSettings.program_id == program_id)
    ).one_or_none()
    return None if row is None else Settings(*row)


def is_active(session: Session, program_id: int) -> bool:
    found = session.execute(
        select(ReferralSettings.active).where(ReferralSettings.program_id == program_id)
    ).scalar_one_or_none()
    return bool(found)


def has_open_referrals(session: Session, program_id: int) -> bool:
    """Referrals an order or a refund may still change (rewarded ones: within their window)."""
    found = session.execute(
        select(Referral.id)
        .where(
            Referral.program_id == program_id,
            Referral.status.in_((Status.PENDING.value, Status.REVIEW.value, Status.REWARDED.value)),
        )
        .limit(1)
    ).first()
    return found is not None


def put_settings(session: Session, program_id: int, settings: Settings) -> None:
    values = {name: getattr(settings, name) for name in _SETTING_NAMES}
    statement = insert_or_skip(session, table_of(ReferralSettings)).values(
        program_id=program_id, **values
    )
    session.execute(statement.on_conflict_do_update(index_elements=["program_id"], set_=values))


# --- codes -----------------------------------------------------------------------------------


def code_of(session: Session, program_id: int, member_id: int) -> str | None:
    found: str | None = session.execute(
        select(ReferralCode.code).where(
            ReferralCode.program_id == program_id, ReferralCode.member_id == member_id
        )
    ).scalar_one_or_none()
    return found


def insert_code(
    session: Session, program_id: int, member_id: int, code: str, now: datetime
) -> None:
    """Skips on either unique key: the member already has a code (a racing first ask made
    it), or the code is taken (the caller draws another)."""
    session.execute(
        insert_or_skip(session, table_of(ReferralCode))
        .values(program_id=program_id, member_id=member_id, code=code, created_at=now)
        .on_conflict_do_nothing()
    )


def member_of_code(session: Session, program_id: int, code: str) -> int | None:
    found: int | None = session.execute(
        select(ReferralCode.member_id).where(
            ReferralCode.program_id == program_id, ReferralCode.code == code
        )
    ).scalar_one_or_none()
    return found


# --- signals ---------------------------------------------------------------------------------


def add_signals(
    session: Session,
    program_id: int,
    member_id: int,
    hashes: Sequence[tuple[SignalKind, str]],
    now: datetime,
) -> None:
    if not hashes:
        return
    rows = [
        {
            "program_id": program_id,
            "member_id": member_id,
            "kind": kind.value,
            "hash": digest,
            "created_at": now,
        }
        for kind, digest in hashes
    ]
    session.execute(insert_or_skip(session, table_of(MemberSignal)).on_conflict_do_nothing(), rows)


def signals_of(
    session: Session, program_id: int, member_ids: Iterable[int]
) -> dict[int, dict[SignalKind, frozenset[str]]]:
    found: dict[int, dict[SignalKind, set[str]]] = {}
    for member_id, kind, digest in session.execute(
        select(MemberSignal.member_id, MemberSignal.kind, MemberSignal.hash).where(
            MemberSignal.program_id == program_id, MemberSignal.member_id.in_(list(member_ids))
        )
    ):
        found.setdefault(member_id, {}).setdefault(SignalKind(kind), set()).add(digest)
    return {m: {k: frozenset(v) for k, v in kinds.items()} for m, kinds in found.items()}


def referees_sharing(
    session: Session, program_id: int, kind: SignalKind, hashes: frozenset[str], member_id: int
) -> list[int]:
    """Referees (of anyone) other than this member who were seen with one of these hashes."""
    if not hashes:
        return []
    query = (
        select(Referral.referee_id)
        .distinct()
        .join(
            MemberSignal,
            (MemberSignal.program_id == Referral.program_id)
            & (MemberSignal.member_id == Referral.referee_id),
        )
        .where(
            Referral.program_id == program_id,
            Referral.referee_id != member_id,
            MemberSignal.kind == kind.value,
            MemberSignal.hash.in_(sorted(hashes)),
        )
        .order_by(Referral.referee_id)
    )
    return list(session.execute(query).scalars())


# --- referrals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    id: int
    program_id: int
    referrer_id: int
    referee_id: int
    code: str
    status: str
    reasons: list[str]
    matched: dict[str, Any]
    referrer_points: int
    referee_points: int
    min_order_total: Decimal
    qualifying_order_id: str | None
    qualifying_event_id: str | None
    qualified_at: datetime | None
    referrer_transaction_id: int | None
    referee_transaction_id: int | None
    review_note: str | None
    reviewed_at: datetime | None
    rewarded_at: datetime | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = tuple(getattr(Referral, f.name) for f in fields(ReferralRow))


def _row(raw: Any) -> ReferralRow:
    values = dict(raw._mapping)
    values["reasons"] = json.loads(values["reasons"])
    values["matched"] = json.loads(values["matched"])
    return ReferralRow(**values)


def _select() -> Any:
    return select(*_COLUMNS)


def insert_referral(session: Session, values: dict[str, Any]) -> int | None:
    """The new id, or None when this referee was already referred by this referrer."""
    values = {
        **values,
        "reasons": json.dumps(values["reasons"]),
        "matched": json.dumps(values["matched"], sort_keys=True),
    }
    statement = (
        insert_or_skip(session, table_of(Referral))
        .values(**values)
        .on_conflict_do_nothing()
        .returning(Referral.id)
    )
    found: int | None = session.execute(statement).scalar_one_or_none()
    return found


def find_pair(session: Session, program_id: int, referee_id: int, referrer_id: int) -> int | None:
    found: int | None = session.execute(
        select(Referral.id).where(
            Referral.program_id == program_id,
            Referral.referee_id == referee_id,
            Referral.referrer_id == referrer_id,
        )
    ).scalar_one_or_none()
    return found


def count_as_referee(session: Session, program_id: int, referee_id: int) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                Referral.program_id == program_id, Referral.referee_id == referee_id
            )
        ).scalar_one()
    )


def count_since(session: Session, program_id: int, referrer_id: int, since: datetime) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                Referral.program_id == program_id,
                Referral.referrer_id == referrer_id,
                Referral.created_at > since,
            )
        ).scalar_one()
    )


def get(session: Session, program_id: int, referral_id: int) -> ReferralRow | None:
    raw = session.execute(
        _select().where(Referral.program_id == program_id, Referral.id == referral_id)
    ).one_or_none()
    return None if raw is None else _row(raw)


def page(
    session: Session,
    program_id: int,
    *,
    before_id: int | None,
    limit: int,
    status: str | None = None,
    referrer_id: int | None = None,
    referee_id: int | None = None,
) -> list[ReferralRow]:
    """Newest first."""
    query = _select().where(Referral.program_id == program_id)
    if before_id is not None:
        query = query.where(Referral.id < before_id)
    if status is not None:
        query = query.where(Referral.status == status)
    if referrer_id is not None:
        query = query.where(Referral.referrer_id == referrer_id)
    if referee_id is not None:
        query = query.where(Referral.referee_id == referee_id)
    return [_row(r) for r in session.execute(query.order_by(Referral.id.desc()).limit(limit))]


def referrer_stats(session: Session, program_id: int, referrer_id: int) -> dict[str, int]:
    """Referrals by status, and `points` earned from rewarded ones."""
    stats = {s.value: 0 for s in Status}
    stats["points"] = 0
    for status, count, points in session.execute(
        select(Referral.status, func.count(), func.sum(Referral.referrer_points))
        .where(Referral.program_id == program_id, Referral.referrer_id == referrer_id)
        .group_by(Referral.status)
    ):
        stats[status] = int(count)
        if status == Status.REWARDED:
            stats["points"] = int(points or 0)
    return stats


def open_for_order(session: Session, program_id: int, referee_id: int) -> list[ReferralRow]:
    """The referee's referrals still waiting for a qualifying order: the one query an order
    costs for a member who is no such referee (the unique key's prefix serves it)."""
    query = _select().where(
        Referral.program_id == program_id,
        Referral.referee_id == referee_id,
        Referral.status.in_((Status.PENDING.value, Status.REVIEW.value)),
        Referral.qualifying_order_id.is_(None),
    )
    return [_row(r) for r in session.execute(query.order_by(Referral.id))]


def qualified_by(
    session: Session, program_id: int, referee_id: int, order_id: str
) -> list[ReferralRow]:
    query = _select().where(
        Referral.program_id == program_id,
        Referral.referee_id == referee_id,
        Referral.qualifying_order_id == order_id,
        Referral.status.in_((Status.REWARDED.value, Status.REVIEW.value)),
    )
    return [_row(r) for r in session.execute(query.order_by(Referral.id))]


def transition(
    session: Session,
    referral_id: int,
    *,
    from_status: Sequence[Status],
    values: dict[str, Any],
    qualifying: str | None = None,
    unqualified: bool = False,
) -> bool:
    """Guarded: the change happens only from one of `from_status` (and only while the
    qualifying order is `qualifying`, or none when `unqualified`), so racing writers change
    it once."""
    if "reasons" in values:
        values = {**values, "reasons": json.dumps(values["reasons"])}
    if "matched" in values:
        values = {**values, "matched": json.dumps(values["matched"], sort_keys=True)}
    statement = update(Referral).where(
        Referral.id == referral_id, Referral.status.in_([s.value for s in from_status])
    )
    if unqualified:
        statement = statement.where(Referral.qualifying_order_id.is_(None))
    if qualifying is not None:
        statement = statement.where(Referral.qualifying_order_id == qualifying)
    result = session.execute(statement.values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- what other domains recorded -------------------------------------------------------------


def has_orders(session: Session, program_id: int, member_id: int) -> bool:
    found = session.execute(
        select(Order.order_id)
        .where(Order.program_id == program_id, Order.member_id == member_id)
        .limit(1)
    ).first()
    return found is not None


def order_left(session: Session, program_id: int, order_id: str) -> Decimal | None:
    """What is left of an order after its refunds."""
    row = session.execute(
        select(Order.total, Order.refunded_amount).where(
            Order.program_id == program_id, Order.order_id == order_id
        )
    ).one_or_none()
    return None if row is None else Decimal(row.total) - Decimal(row.refunded_amount)


def pending_state(session: Session, tx_id: int) -> tuple[str, datetime] | None:
    """The pending credit of a ledger transaction: its status and when it releases."""
    row = session.execute(
        select(PendingCredit.status, PendingCredit.release_at).where(
            PendingCredit.transaction_id == tx_id
        )
    ).one_or_none()
    return None if row is None else (row.status, row.release_at)
