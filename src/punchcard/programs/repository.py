"""SQL for programs and API keys."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import rowcount
from punchcard.models import ApiKey, Program
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings

_PROGRAM_COLUMNS = (
    Program.id,
    Program.name,
    Program.points_name,
    Program.currency,
    Program.expiry_policy,
    Program.expiry_value,
    Program.pending_days,
    Program.auto_enrol,
    Program.points_payment_rate,
    Program.points_payment_max_percent,
    Program.point_value,
    Program.expected_breakage,
    Program.points_names,
)


def _settings(row: Any) -> ProgramSettings:
    return ProgramSettings(
        id=row.id,
        name=row.name,
        points_name=row.points_name,
        currency=row.currency,
        expiry_policy=ExpiryPolicy(row.expiry_policy),
        expiry_value=row.expiry_value,
        pending_days=row.pending_days,
        auto_enrol=bool(row.auto_enrol),
        points_payment_rate=row.points_payment_rate,
        points_payment_max_percent=row.points_payment_max_percent,
        point_value=row.point_value,
        expected_breakage=row.expected_breakage,
        points_names=_names(row.points_names),
    )


def _names(text: str | None) -> dict[str, str]:
    """The stored JSON map; anything unreadable counts as no per-language names."""
    if not text:
        return {}
    try:
        names = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(names, dict):
        return {}
    return {str(k): str(v) for k, v in names.items() if isinstance(v, str) and v}


def insert_program(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(Program).values(**values).returning(Program.id)).scalar_one())


def get_program(session: Session, program_id: int) -> ProgramSettings | None:
    row = session.execute(select(*_PROGRAM_COLUMNS).where(Program.id == program_id)).one_or_none()
    return None if row is None else _settings(row)


def list_programs(session: Session) -> list[ProgramSettings]:
    return [_settings(r) for r in session.execute(select(*_PROGRAM_COLUMNS).order_by(Program.id))]


def update_program(session: Session, program_id: int, values: dict[str, Any]) -> None:
    if "points_names" in values:
        names = values["points_names"]
        values = {**values, "points_names": json.dumps(names, sort_keys=True) if names else None}
    session.execute(update(Program).where(Program.id == program_id).values(**values))


def insert_key(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(ApiKey).values(**values).returning(ApiKey.id)).scalar_one())


def key_by_hash(session: Session, key_hash: str) -> tuple[int, int, str] | None:
    """(key id, program id, scopes) of a live key."""
    row = session.execute(
        select(ApiKey.id, ApiKey.program_id, ApiKey.scopes).where(
            ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)
        )
    ).one_or_none()
    return None if row is None else (row.id, row.program_id, row.scopes)


def list_keys(session: Session, program_id: int) -> list[Any]:
    return list(
        session.execute(
            select(
                ApiKey.id,
                ApiKey.name,
                ApiKey.prefix,
                ApiKey.scopes,
                ApiKey.created_at,
                ApiKey.revoked_at,
            )
            .where(ApiKey.program_id == program_id)
            .order_by(ApiKey.id)
        ).all()
    )


def revoke_key(session: Session, program_id: int, key_id: int, now: datetime) -> bool:
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.program_id == program_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return rowcount(result) == 1
