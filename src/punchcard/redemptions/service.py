"""Redeeming and cancelling. Session first, keyword-only after; never commits.

Lock order, the same in every write here so that two requests never wait on each other in a
circle: the member's balance row first (ledger.lock), then the reward row (the stock claim or
release), then the redemption row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.badges import hooks as badges_hooks
from punchcard.errors import ConflictError
from punchcard.kit import codes
from punchcard.kit.clock import as_utc
from punchcard.kit.hashing import sha256_hex
from punchcard.ledger import reversals
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Kind
from punchcard.programs.domain import ProgramSettings
from punchcard.redemptions import domain
from punchcard.redemptions import repository as repo
from punchcard.redemptions.errors import (
    OutOfStockError,
    RedemptionNotFoundError,
    RewardMisconfiguredError,
    RewardNotFoundError,
)
from punchcard.redemptions.repository import RedemptionRow
from punchcard.rewards import repository as rewards_repo
from punchcard.rewards import service as rewards
from punchcard.rewards.domain import CODE_TYPES, RewardType, RewardView, refusals


@dataclass(frozen=True)
class Issued:
    """A new redemption and, for code rewards, the code: the only time it exists in clear."""

    redemption: RedemptionRow
    code: str | None


@dataclass(frozen=True)
class Benefit:
    value: str | None
    cause_id: int | None
    reason: str
    details: dict[str, Any]


def redeem(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    reward_id: int,
    now: datetime,
    channel: str | None = None,
) -> Issued:
    """Debit, claim stock and issue the benefit, all or nothing (the caller commits once)."""
    ledger.lock(session, program.id, member_id)
    reward = rewards_repo.get_view(session, program.id, reward_id)
    if reward is None:
        raise RewardNotFoundError(f"reward {reward_id} not found", details={"reward_id": reward_id})
    _check_eligible(session, program.id, member_id, reward, now, channel)
    benefit = _benefit(session, program, reward)
    if not repo.claim_stock(session, program.id, reward.id):
        raise OutOfStockError(_MESSAGES["out_of_stock"], details={"reward_id": reward.id})
    tx_id = ledger.debit(
        session,
        program=program,
        member_id=member_id,
        points=reward.points_cost,
        reason=benefit.reason,
        now=now,
        kind=Kind.DONATE if reward.type is RewardType.DONATION else Kind.SPEND,
        meta={"redemption": True, "reward_id": reward.id},
    )
    code = codes.new_code() if reward.type in CODE_TYPES else None
    values = {
        "program_id": program.id,
        "member_id": member_id,
        "reward_id": reward.id,
        "cause_id": benefit.cause_id,
        "type": reward.type.value,
        "points": reward.points_cost,
        "value": benefit.value,
        "status": domain.initial_status(reward.type).value,
        "transaction_id": tx_id,
        "details": benefit.details,
        **code_columns(code, now + timedelta(days=reward.code_valid_days)),
    }
    issued = issue(session, program.id, member_id, values, code, now)
    if reward.type is RewardType.DONATION:  # donation badges, in the donation's transaction
        badges_hooks.after_donation(
            session,
            program=program,
            member_id=member_id,
            redemption_id=issued.redemption.id,
            now=now,
        )
    return issued


def _check_eligible(
    session: Session,
    program_id: int,
    member_id: int,
    reward: RewardView,
    now: datetime,
    channel: str | None,
) -> None:
    """The catalog's eligibility rule, on a standing read under the member's lock: what it
    sees cannot change before the debit. Its first refusal is the answer."""
    member = rewards.standing(
        session, program_id=program_id, member_id=member_id, now=now, reward_ids=[reward.id]
    )
    found = refusals(reward, member, now=now, channel=channel)
    if not found:
        return
    details: dict[str, Any] = {"reward_id": reward.id, "reasons": [r.value for r in found]}
    if found[0].value == "insufficient_points":
        details |= {"requested": reward.points_cost, "available": member.available}
    raise ConflictError(_MESSAGES[found[0].value], code=found[0].value, details=details)


_MESSAGES = {
    "reward_inactive": "this reward is not on offer now",
    "not_eligible": "this member cannot redeem this reward (tier or channel)",
    "out_of_stock": "this reward is out of stock",
    "limit_reached": "this member has redeemed this reward as often as allowed",
    "debt_outstanding": "the member owes points from a reversal and cannot redeem until "
    "new credits pay it off",
    "insufficient_points": "the member does not have enough points for this reward",
}


def code_columns(code: str | None, expires_at: datetime) -> dict[str, Any]:
    """What is stored of a code: its hash, to find it at checkout, and its last characters."""
    if code is None:
        return {"code_hash": None, "code_hint": None, "code_expires_at": None}
    return {
        "code_hash": sha256_hex(code),
        "code_hint": codes.hint(code),
        "code_expires_at": expires_at,
    }


def issue(
    session: Session,
    program_id: int,
    member_id: int,
    values: dict[str, Any],
    code: str | None,
    now: datetime,
) -> Issued:
    redemption_id = repo.insert_redemption(
        session, {**values, "created_at": now, "updated_at": now}
    )
    row = repo.get(session, program_id, member_id, redemption_id)
    assert row is not None
    return Issued(row, codes.display(code) if code is not None else None)


def _benefit(session: Session, program: ProgramSettings, reward: RewardView) -> Benefit:
    """The benefit as issued, checked before anything is written: a reward set up wrongly is
    refused with nothing spent."""
    details: dict[str, Any] = {"name": reward.name}
    if reward.type is RewardType.EXPERIENCE:
        details |= repo.reward_details(session, program.id, reward.id) or {}
        return Benefit(reward.value, None, f"Experience: {reward.name}", details)
    if reward.type is RewardType.DONATION:
        return _donation(session, program, reward, details)
    if not _valid_value(reward):
        raise RewardMisconfiguredError(
            f"reward {reward.id} has no usable value for a {reward.type.value} reward",
            details={"reward_id": reward.id},
        )
    return Benefit(reward.value, None, f"Reward: {reward.name}", details)


def _valid_value(reward: RewardView) -> bool:
    value = (reward.value or "").strip()
    if reward.type is RewardType.FREE_SHIPPING:
        return True
    if reward.type is RewardType.FREE_PRODUCT:
        return bool(value)
    try:
        return domain.parse_amount(value) > 0
    except ValueError:
        return False


def _donation(
    session: Session, program: ProgramSettings, reward: RewardView, details: dict[str, Any]
) -> Benefit:
    raw = (reward.value or "").strip()
    cause_id = reward.cause_id or (int(raw) if raw.isdigit() else None)
    cause = None if cause_id is None else repo.get_cause(session, program.id, cause_id)
    if cause is None:
        raise RewardMisconfiguredError(
            f"donation reward {reward.id} names no cause of this program",
            details={"reward_id": reward.id},
        )
    if not cause.active:
        raise ConflictError(
            f"the cause {cause.name!r} no longer takes donations",
            code="reward_inactive",
            details={"reward_id": reward.id, "cause_id": cause.id},
        )
    units = domain.impact_units(reward.points_cost, cause.points_per_unit)
    phrase = domain.impact_phrase(units, cause.impact_unit)
    details |= {"cause_name": cause.name, "impact_unit": cause.impact_unit, "impact": phrase}
    return Benefit(
        domain.units_text(units), cause.id, f"Donation: {cause.name} ({phrase})", details
    )


def cancel(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    redemption_id: int,
    now: datetime,
) -> RedemptionRow:
    """Give the points back as a reversal linked to the debit (lots restored) and release the
    stock, once. Another member's or program's redemption is as absent as a missing one."""
    ledger.lock(session, program.id, member_id)
    row = get(session, program_id=program.id, member_id=member_id, redemption_id=redemption_id)
    starts_at = _starts_at(session, row) if row.type == RewardType.EXPERIENCE else None
    refusal = domain.cancel_refusal(row.status, row.code_expires_at, starts_at, now)
    if refusal is not None:
        raise _cancel_error(refusal, row)
    tx_id = None  # a reward granted free (by a challenge) has no points to give back
    if row.transaction_id is not None:
        tx_id = reversals.reverse(
            session,
            program=program,
            member_id=member_id,
            transaction_id=row.transaction_id,
            reason=f"Cancelled: {(row.details or {}).get('name', row.type)}",
            now=now,
            meta={"redemption_id": row.id, "cancelled": True},
            redemption_ok=True,
        )
    if row.reward_id is not None:
        repo.release_stock(session, program.id, row.reward_id)
    if not repo.mark_cancelled(session, row.id, row.status, tx_id, now):
        # A checkout used the code meanwhile: everything above rolls back with this error.
        raise _cancel_error("code_used", row)
    return get(session, program_id=program.id, member_id=member_id, redemption_id=row.id)


def _cancel_error(code: str, row: RedemptionRow) -> ConflictError:
    messages = {
        "already_cancelled": "this redemption is already cancelled; its points were given back",
        "code_used": "this code was used at checkout and cannot be cancelled",
        "code_expired": "this code has expired; its points are not given back",
        "not_cancellable": "this redemption cannot be cancelled (a donation, or an experience "
        "that has started)",
    }
    return ConflictError(messages[code], code=code, details={"redemption_id": row.id})


def _starts_at(session: Session, row: RedemptionRow) -> datetime | None:
    """When the experience starts: the reward's date now (an event the merchant moved moves
    the deadline), else the one recorded at redemption."""
    current = None
    if row.reward_id is not None:
        current = repo.reward_details(session, row.program_id, row.reward_id)
    raw = (current or row.details or {}).get("starts_at")
    if not raw:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(raw)))
    except ValueError:
        return None


def get(session: Session, *, program_id: int, member_id: int, redemption_id: int) -> RedemptionRow:
    row = repo.get(session, program_id, member_id, redemption_id)
    if row is None:
        raise RedemptionNotFoundError(
            f"redemption {redemption_id} not found", details={"redemption_id": redemption_id}
        )
    return row


def impact(
    session: Session, *, program_id: int, member_id: int | None = None
) -> list[tuple[repo.DonationSum, str]]:
    """Donations per cause with the impact they add up to (units as text: "2.5"), for one
    member or, without `member_id`, the whole program."""
    return [
        (entry, domain.units_text(sum((Decimal(v) for v in entry.values), Decimal(0))))
        for entry in repo.donations_by_cause(session, program_id, member_id)
    ]
