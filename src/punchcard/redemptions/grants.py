"""Catalog rewards given free: a challenge completed, say. The same redemption row as a
purchase, with its code (hashed) and the stock claimed by the same guarded update, but no
points: `points` is 0 and there is no ledger debit (`transaction_id` is null), which the
table's CHECK allows only together.

A grant never raises for the reward's state: the caller is inside an event's transaction,
which a retired or sold-out reward must not fail. It answers why nothing was given instead.
The member's tier, channel, per-member limit, points and debt are not asked: whoever grants
the reward has decided who gets it.

A code reward's code is not made at the grant: nobody would see it (the grant happens inside
an event's transaction, whose response is the event's) and only its hash is ever stored. The
member asks for it once (`reveal_code`, `POST /v1/members/{id}/redemptions/{rid}/code`), and
sees it in that response only, as after a purchase; the code's validity runs from the grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError
from punchcard.kit import codes
from punchcard.ledger import service as ledger
from punchcard.redemptions import domain
from punchcard.redemptions import repository as repo
from punchcard.redemptions.service import Issued, code_columns, get, issue
from punchcard.rewards import repository as rewards_repo
from punchcard.rewards.domain import CODE_TYPES, RewardType

# Donations give the member's points to a cause: with no points, there is nothing to give.
GRANTABLE = frozenset(RewardType) - {RewardType.DONATION}


@dataclass(frozen=True)
class Grant:
    issued: Issued | None
    refused: str | None  # reward_inactive | out_of_stock | not_grantable

    @property
    def redemption_id(self) -> int | None:
        return None if self.issued is None else self.issued.redemption.id


def grant(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    reward_id: int,
    now: datetime,
    reason: str,
) -> Grant:
    """Issue the reward to the member at no cost, or say why not (nothing written then)."""
    reward = rewards_repo.get_view(session, program_id, reward_id)
    if reward is None or not reward.on_offer(now):
        return Grant(None, "reward_inactive")
    if reward.type not in GRANTABLE:
        return Grant(None, "not_grantable")
    details: dict[str, Any] = {"name": reward.name, "granted": reason}
    if reward.type is RewardType.EXPERIENCE:
        details |= repo.reward_details(session, program_id, reward.id) or {}
    if not repo.claim_stock(session, program_id, reward.id):
        return Grant(None, "out_of_stock")
    expires_at = now + timedelta(days=reward.code_valid_days)
    values = {
        "program_id": program_id,
        "member_id": member_id,
        "reward_id": reward.id,
        "cause_id": None,
        "type": reward.type.value,
        "points": 0,
        "value": reward.value,
        "status": domain.initial_status(reward.type).value,
        "transaction_id": None,
        "details": details,
        **code_columns(None, expires_at),
        "code_expires_at": expires_at if reward.type in CODE_TYPES else None,
    }
    return Grant(issue(session, program_id, member_id, values, None, now), None)


class NoCodeToRevealError(ConflictError):
    code = "no_code_to_reveal"


def reveal_code(
    session: Session, *, program_id: int, member_id: int, redemption_id: int, now: datetime
) -> Issued:
    """Make the code of a granted code reward, once: 409 `no_code_to_reveal` for anything
    else (a purchase, whose code was shown at the time; a code already revealed; a reward
    with no code), `code_expired`, `already_cancelled` or `code_used` for a spent grant."""
    ledger.lock(session, program_id, member_id)  # two reveals of one member queue here
    row = get(session, program_id=program_id, member_id=member_id, redemption_id=redemption_id)
    granted_code = row.points == 0 and row.type in {t.value for t in CODE_TYPES}
    if not granted_code or row.code_hint is not None:
        raise NoCodeToRevealError(
            "this redemption has no code waiting to be shown: codes of purchased rewards are "
            "shown in the purchase's response, and a granted code only once",
            details={"redemption_id": row.id},
        )
    if row.status != "issued" or (row.code_expires_at is not None and row.code_expires_at <= now):
        status = row.status if row.status != "issued" else "expired"
        reason = {"cancelled": "already_cancelled", "used": "code_used"}.get(status, "code_expired")
        raise ConflictError(
            f"this reward is {status}: its code can no longer be shown",
            code=reason,
            details={"redemption_id": row.id},
        )
    code = codes.new_code()
    columns = code_columns(code, now)
    if not repo.set_code(session, row.id, columns["code_hash"], columns["code_hint"], now):
        raise NoCodeToRevealError(
            "the code was shown by a request a moment before", details={"redemption_id": row.id}
        )
    return Issued(get(session, program_id=program_id, member_id=member_id, redemption_id=row.id),
                  codes.display(code))  # fmt: skip
