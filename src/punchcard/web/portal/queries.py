"""Reads the portal needs that no service offers: small, member-scoped, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.models import IdempotencyKey, Member, PendingCredit, Program, Reward


@dataclass(frozen=True)
class Pending:
    points: int
    release_at: datetime


def program_ids(session: Session, limit: int = 2) -> list[int]:
    """Enough program ids to tell "exactly one program" from "several" (or none)."""
    return list(session.execute(select(Program.id).order_by(Program.id).limit(limit)).scalars())


def points_names(session: Session, program_id: int) -> str | None:
    """The program's per-language names of its points (JSON text), not in ProgramSettings."""
    value = session.execute(
        select(Program.points_names).where(Program.id == program_id)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def member_id_by_email(session: Session, program_id: int, email: str) -> int | None:
    """The oldest member with this e-mail: an address shared by two members signs in as the
    first one (the store's own account, usually)."""
    found = session.execute(
        select(Member.id)
        .where(Member.program_id == program_id, Member.email == email)
        .order_by(Member.id)
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def pending(session: Session, program_id: int, member_id: int) -> list[Pending]:
    """Points waiting for the return window, grouped by the day they become available."""
    rows = session.execute(
        select(PendingCredit.release_at, func.sum(PendingCredit.remaining))
        .where(
            PendingCredit.program_id == program_id,
            PendingCredit.member_id == member_id,
            PendingCredit.status == "pending",
            PendingCredit.remaining > 0,
        )
        .group_by(PendingCredit.release_at)
        .order_by(PendingCredit.release_at)
    ).all()
    return [Pending(int(points), at) for at, points in rows]


def reward_names(session: Session, program_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Reward.id, Reward.name).where(Reward.program_id == program_id, Reward.id.in_(ids))
    )
    return {int(i): str(n) for i, n in rows}


def stored_response(session: Session, program_id: int, key: str) -> bytes | None:
    """The stored (sealed) first answer of a portal write, to show its result again."""
    value = session.execute(
        select(IdempotencyKey.response_body).where(
            IdempotencyKey.program_id == program_id, IdempotencyKey.key == key
        )
    ).scalar_one_or_none()
    return None if value is None else bytes(value)


def sessions_valid_after(session: Session, program_id: int, member_id: int) -> datetime | None:
    """When the member last signed out: sessions signed in before it are over."""
    return session.execute(
        select(Member.sessions_valid_after).where(
            Member.program_id == program_id, Member.id == member_id
        )
    ).scalar_one_or_none()


def end_sessions(session: Session, program_id: int, member_id: int, now: datetime) -> None:
    """Signing out: every session of the member signed in before `now` stops working."""
    session.execute(
        update(Member)
        .where(Member.program_id == program_id, Member.id == member_id)
        .values(sessions_valid_after=now)
    )
