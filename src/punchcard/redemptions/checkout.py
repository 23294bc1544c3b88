"""The store's side: is this code good for this order, and use it, once.

Every answer starts with the same single lookup (by the code's hash, within the caller's
program), whatever was typed: an unknown, an expired and a cancelled code cost the same
statement and get the same answer, so neither the body nor the timing says which codes
exist. Codes carry 80 random bits, so trying them is hopeless anyway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.kit import codes
from punchcard.kit.hashing import sha256_hex
from punchcard.redemptions import domain
from punchcard.redemptions import repository as repo
from punchcard.redemptions.domain import Verdict
from punchcard.redemptions.errors import CodeInvalidError, CodeUsedError
from punchcard.redemptions.repository import RedemptionRow


@dataclass(frozen=True)
class Validation:
    verdict: Verdict
    redemption: RedemptionRow | None = None
    discount: dict[str, Any] | None = None


def lookup(session: Session, program_id: int, text: str) -> RedemptionRow | None:
    """The one statement every checkout call starts with; nothing returns before it."""
    return repo.by_code(session, program_id, sha256_hex(codes.normalise(text)))


def validate(
    session: Session, *, program_id: int, code: str, now: datetime, order_total: Decimal | None
) -> Validation:
    row = lookup(session, program_id, code)
    found = domain.verdict(row.status if row else None, row.code_expires_at if row else None, now)
    if found is not Verdict.VALID or row is None:
        return Validation(found)
    share = (row.details or {}).get("max_percent") if row.type == domain.POINTS_PAYMENT else None
    return Validation(found, row, domain.discount(row.type, row.value, order_total, share))


def redeem_code(
    session: Session, *, program_id: int, code: str, order_id: str, now: datetime
) -> RedemptionRow:
    """Mark the code used by `order_id`. The same order again gets the same answer (a store
    retrying after a timeout); another order gets 409 `code_used`. Of racing checkouts, the
    guarded update lets exactly one through."""
    row = lookup(session, program_id, code)
    if row is not None and domain.verdict(row.status, row.code_expires_at, now) is Verdict.VALID:
        if repo.mark_used(session, row.id, order_id, now):
            return _reread(session, row)
        row = _reread(session, row)  # someone else changed it first: answer from what they did
    return _settled(row, order_id, now)


def _settled(row: RedemptionRow | None, order_id: str, now: datetime) -> RedemptionRow:
    found = domain.verdict(row.status if row else None, row.code_expires_at if row else None, now)
    if found is Verdict.USED and row is not None:
        if row.used_order_id == order_id:
            return row
        raise CodeUsedError(
            "this code was already used for another order", details={"redemption_id": row.id}
        )
    raise CodeInvalidError()


def _reread(session: Session, row: RedemptionRow) -> RedemptionRow:
    fresh = repo.get(session, row.program_id, row.member_id, row.id)
    assert fresh is not None
    return fresh
