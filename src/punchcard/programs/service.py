"""Program and API key use cases."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, InvalidInputError, NotFoundError
from punchcard.kit.hashing import sha256_hex
from punchcard.programs import repository as repo
from punchcard.programs.domain import (
    ExpiryPolicy,
    ProgramSettings,
    Scope,
    validate_expiry,
    validate_points_names,
)

KEY_PREFIX = "pc_"


class ProgramNotFoundError(NotFoundError):
    code = "program_not_found"


class InvalidSettingsError(InvalidInputError):
    code = "invalid_settings"


class KeyNotFoundError(NotFoundError):
    code = "api_key_not_found"


@dataclass(frozen=True)
class NewKey:
    id: int
    program_id: int
    api_key: str
    scopes: tuple[Scope, ...]


@dataclass(frozen=True)
class KeyIdentity:
    key_id: int
    program_id: int
    scopes: frozenset[Scope]


def _check(policy: ExpiryPolicy, value: int, pending_days: int, currency: str) -> None:
    problem = validate_expiry(policy, value)
    if problem:
        raise InvalidSettingsError(problem, details={"field": "expiry_value"})
    if not 0 <= pending_days <= 365:
        raise InvalidSettingsError(
            "pending_days must be between 0 and 365", details={"field": "pending_days"}
        )
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidSettingsError(
            "currency must be a three-letter ISO 4217 code such as USD",
            details={"field": "currency"},
        )


def create_program(
    session: Session,
    *,
    name: str,
    now: datetime,
    points_name: str = "points",
    currency: str = "USD",
    expiry_policy: ExpiryPolicy = ExpiryPolicy.NEVER,
    expiry_value: int = 0,
    pending_days: int = 0,
    auto_enrol: bool = True,
) -> ProgramSettings:
    if not name.strip():
        raise InvalidSettingsError("name must not be empty", details={"field": "name"})
    _check(expiry_policy, expiry_value, pending_days, currency)
    program_id = repo.insert_program(
        session,
        {
            "name": name.strip(),
            "points_name": points_name,
            "currency": currency,
            "expiry_policy": expiry_policy.value,
            "expiry_value": expiry_value,
            "pending_days": pending_days,
            "auto_enrol": auto_enrol,
            "points_payment_max_percent": 100,
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_program(session, program_id)


def get_program(session: Session, program_id: int) -> ProgramSettings:
    program = repo.get_program(session, program_id)
    if program is None:
        raise ProgramNotFoundError(f"program {program_id} not found")
    return program


def list_programs(session: Session) -> list[ProgramSettings]:
    return repo.list_programs(session)


def update_program(
    session: Session, program_id: int, *, changes: dict[str, Any], now: datetime
) -> ProgramSettings:
    current = get_program(session, program_id)
    merged = {**current.__dict__, **changes}
    policy = ExpiryPolicy(merged["expiry_policy"])
    _check(policy, merged["expiry_value"], merged["pending_days"], merged["currency"])
    if "points_names" in changes:
        changes = {**changes, "points_names": _names(changes["points_names"])}
    values = {k: (v.value if isinstance(v, ExpiryPolicy) else v) for k, v in changes.items()}
    repo.update_program(session, program_id, {**values, "updated_at": now})
    return get_program(session, program_id)


def _names(names: object) -> dict[str, str]:
    """Checked per-language points names, trimmed; None or {} clears them."""
    if names is None:
        return {}
    problem = validate_points_names(names)
    if problem or not isinstance(names, dict):
        raise InvalidSettingsError(problem or "bad points_names", details={"field": "points_names"})
    return {str(k): str(v).strip() for k, v in names.items()}


def create_api_key(
    session: Session,
    *,
    program_id: int,
    scopes: tuple[Scope, ...],
    now: datetime,
    name: str = "default",
) -> NewKey:
    """The plain key is returned once; only its SHA-256 is kept. Keys are 240 random bits, so
    a fast hash is safe here and keeps authentication off the hot path's budget."""
    get_program(session, program_id)
    if not scopes:
        raise InvalidInputError("a key needs at least one scope", code="invalid_scopes")
    plain = KEY_PREFIX + secrets.token_urlsafe(30)
    key_id = repo.insert_key(
        session,
        {
            "program_id": program_id,
            "name": name,
            "prefix": plain[:10],
            "key_hash": sha256_hex(plain),
            "scopes": ",".join(sorted(s.value for s in scopes)),
            "created_at": now,
        },
    )
    return NewKey(key_id, program_id, plain, scopes)


def authenticate(session: Session, plain: str) -> KeyIdentity | None:
    found = repo.key_by_hash(session, sha256_hex(plain))
    if found is None:
        return None
    key_id, program_id, scopes = found
    return KeyIdentity(key_id, program_id, frozenset(Scope(s) for s in scopes.split(",") if s))


def list_api_keys(session: Session, program_id: int) -> list[Any]:
    return repo.list_keys(session, program_id)


def revoke_api_key(
    session: Session, *, program_id: int, key_id: int, now: datetime, keep_an_admin: bool = False
) -> None:
    """Revoke a key. Through the API (`keep_an_admin`) the program's last live admin key cannot
    be revoked, so a program is never locked out of its own API; the CLI can."""
    live = [k for k in repo.list_keys(session, program_id) if k.revoked_at is None]
    target = next((k for k in live if k.id == key_id), None)
    if target is None:
        raise KeyNotFoundError(f"api key {key_id} not found or already revoked")
    admins = [k for k in live if Scope.ADMIN.value in k.scopes.split(",")]
    if keep_an_admin and [k.id for k in admins] == [key_id]:
        raise ConflictError(
            "this is the program's last admin key; create another before revoking it",
            code="last_admin_key",
        )
    repo.revoke_key(session, program_id, key_id, now)
