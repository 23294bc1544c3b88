"""Replay, conflict or go ahead: the decision for a write that carries an Idempotency-Key.

The key row is written in the same transaction as the write it guards, so a request that fails
leaves no key behind and can be retried; only successful responses are replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, PunchcardError
from punchcard.idempotency import repository as repo

MAX_KEY_LENGTH = 255


class IdempotencyConflictError(ConflictError):
    code = "idempotency_conflict"


class InvalidIdempotencyKeyError(PunchcardError):
    status = 400
    code = "invalid_idempotency_key"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: bytes


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKeyError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )


def begin(
    session: Session, *, program_id: int, key: str, fingerprint: str, now: datetime
) -> Replay | None:
    check_key(key)
    stored = repo.claim(session, program_id, key, fingerprint, now)
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyConflictError(
            "this Idempotency-Key was already used with a different request",
            details={"idempotency_key": key},
        )
    if stored.status_code is None or stored.body is None:
        raise ConflictError(
            "a request with this Idempotency-Key is still in progress",
            code="idempotency_in_progress",
        )
    return Replay(stored.status_code, stored.body)


def finish(session: Session, *, program_id: int, key: str, status_code: int, body: bytes) -> None:
    repo.save(session, program_id, key, status_code, body)


def seen(session: Session, *, program_id: int, key: str) -> bool:
    """Whether a request with this key was already taken: a costly write (a model fit) checks
    it first so that a retry replays instead of doing the work again."""
    return repo.exists(session, program_id, key)
