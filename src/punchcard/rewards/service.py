"""Rewards use cases. Session first, keyword-only after; never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.ledger import queries as ledger_queries
from punchcard.programs import service as programs
from punchcard.rewards import repository as repo
from punchcard.rewards.domain import (
    MemberStanding,
    Refusal,
    RewardRuleError,
    RewardType,
    check_window,
    impact_text,
    normalise_details,
    normalise_value,
    refusals,
)
from punchcard.rewards.errors import (
    InvalidRewardError,
    RewardNotFoundError,
    StockBelowClaimedError,
    UnknownTierError,
)
from punchcard.rewards.repository import view_of
from punchcard.tiers import repository as tiers_repo

MAX_DETAILS_CHARS = 10_000
# Stored as JSON text; everything else is stored as given.
_JSON_FIELDS = ("tiers", "channels", "details")


def standing(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    now: datetime,
    reward_ids: list[int] | None = None,
) -> MemberStanding:
    """The member as eligibility sees them. A redemption calls this after locking the member's
    balance, so what it reads cannot change before the debit. Unknown member: 404."""
    balance = ledger_queries.balance(session, program_id, member_id, now)
    return MemberStanding(
        available=balance.available,
        debt=balance.debt,
        tier=tiers_repo.held_tier(session, program_id, member_id),
        redeemed=repo.redeemed_counts(session, program_id, member_id, reward_ids),
    )


@dataclass(frozen=True)
class CauseBrief:
    """The cause a donation reward gives to, as members read it."""

    id: int
    name: str
    impact_unit: str
    points_per_unit: int
    impact: str
    active: bool


@dataclass(frozen=True)
class RewardRecord:
    row: Any  # every column of the rewards table
    cause: CauseBrief | None

    @property
    def remaining(self) -> int | None:
        return view_of(self.row).remaining


@dataclass(frozen=True)
class MemberOffer:
    reward: RewardRecord
    reasons: list[Refusal]


@dataclass(frozen=True)
class MemberCatalog:
    available: int
    debt: int
    tier: str | None
    offers: list[MemberOffer]


def create_reward(
    session: Session, *, program_id: int, fields: dict[str, Any], now: datetime
) -> RewardRecord:
    """Add a reward to the catalog; `fields` are the request's, checked here against the type."""
    if fields.get("tiers") is not None:
        _check_tiers(session, program_id, fields["tiers"])
    merged = {"active": True, "code_valid_days": 90, **fields}
    values = _validated(session, program_id, merged)
    reward_id = repo.insert_reward(
        session,
        {
            **_stored(values),
            "program_id": program_id,
            "claimed": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_reward(session, program_id=program_id, reward_id=reward_id)


def update_reward(
    session: Session, *, program_id: int, reward_id: int, changes: dict[str, Any], now: datetime
) -> RewardRecord:
    """Change any field but the type; null clears an optional one. The whole reward is checked
    again, so a change cannot leave it inconsistent (an end before its start, say)."""
    row = repo.reward_row(session, program_id, reward_id)
    if row is None:
        raise RewardNotFoundError(f"reward {reward_id} not found", details={"reward_id": reward_id})
    if changes.get("type") is not None and changes["type"] != row.type:
        raise InvalidRewardError(
            "a reward's type cannot change: retire it and create another",
            details={"field": "type"},
        )
    changes = {k: v for k, v in changes.items() if k != "type"}
    if changes.get("tiers") is not None:
        _check_tiers(session, program_id, changes["tiers"])
    current = {**row._asdict(), **{f: _loaded(row, f) for f in _JSON_FIELDS}}
    values = _validated(session, program_id, {**current, **changes})
    changed = {k: v for k, v in _stored(values).items() if k in changes or k == "cause_id"}
    if not repo.update_reward(session, program_id, reward_id, {**changed, "updated_at": now}):
        latest = repo.reward_row(session, program_id, reward_id)  # a redemption may have raced
        claimed = row.claimed if latest is None else latest.claimed
        raise StockBelowClaimedError(
            f"stock cannot go below the {claimed} already claimed",
            details={"stock": changes["stock"], "claimed": claimed},
        )
    return get_reward(session, program_id=program_id, reward_id=reward_id)


def get_reward(session: Session, *, program_id: int, reward_id: int) -> RewardRecord:
    row = repo.reward_row(session, program_id, reward_id)
    if row is None:
        raise RewardNotFoundError(f"reward {reward_id} not found", details={"reward_id": reward_id})
    return _records(session, program_id, [row])[0]


def list_rewards(
    session: Session,
    *,
    program_id: int,
    after_id: int,
    limit: int,
    active: bool | None = None,
    kind: RewardType | None = None,
) -> list[RewardRecord]:
    rows = repo.reward_page(
        session, program_id, after_id=after_id, limit=limit, active=active, kind=kind
    )
    return _records(session, program_id, rows)


def member_catalog(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    now: datetime,
    channel: str | None = None,
    include_unavailable: bool = False,
) -> MemberCatalog:
    """Every active reward with the reasons this member cannot redeem it now (none: they can),
    asked of the same rule a redemption applies. Rewards outside their validity window are
    left out unless `include_unavailable`. Unknown member: 404."""
    member = standing(session, program_id=program_id, member_id=member_id, now=now)
    rows = repo.active_rewards(session, program_id)
    if not include_unavailable:
        rows = [r for r in rows if view_of(r).on_offer(now)]
    offers = [
        MemberOffer(record, refusals(view_of(record.row), member, now=now, channel=channel))
        for record in _records(session, program_id, rows)
    ]
    return MemberCatalog(member.available, member.debt, member.tier, offers)


def cause_brief(row: Any, points_name: str) -> CauseBrief:
    return CauseBrief(
        id=row.id,
        name=row.name,
        impact_unit=row.impact_unit,
        points_per_unit=row.points_per_unit,
        impact=impact_text(row.points_per_unit, row.impact_unit, points_name),
        active=bool(row.active),
    )


def _records(session: Session, program_id: int, rows: list[Any]) -> list[RewardRecord]:
    """Rows with the causes they give to, fetched in one query for the whole page."""
    wanted = {r.cause_id for r in rows if r.cause_id is not None}
    causes = repo.causes_by_id(session, program_id, wanted)
    points_name = programs.get_program(session, program_id).points_name if causes else ""
    return [
        RewardRecord(
            r,
            cause_brief(causes[r.cause_id], points_name) if r.cause_id in causes else None,
        )
        for r in rows
    ]


def _check_tiers(session: Session, program_id: int, names: list[str]) -> None:
    known = repo.tier_names(session, program_id)
    if known is None:
        return  # no tier policy yet: names are taken as given
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownTierError(
            f"not a tier of this program: {', '.join(unknown)}",
            details={"field": "tiers", "unknown": unknown, "tiers": known},
        )


def _validated(session: Session, program_id: int, merged: dict[str, Any]) -> dict[str, Any]:
    """The reward as it will be stored, with its value normalised, or 422 `invalid_reward`."""
    kind = RewardType(merged["type"])
    try:
        value = normalise_value(kind, merged.get("value"))
        details = normalise_details(kind, merged.get("details"))
        check_window(merged.get("valid_from"), merged.get("valid_until"))
    except RewardRuleError as exc:
        raise InvalidRewardError(exc.message, details={"field": exc.field}) from exc
    if details is not None and len(json.dumps(details)) > MAX_DETAILS_CHARS:
        raise InvalidRewardError(
            f"details take at most {MAX_DETAILS_CHARS} characters as JSON",
            details={"field": "details"},
        )
    cause_id = int(value) if kind is RewardType.DONATION and value is not None else None
    if cause_id is not None:
        cause = repo.cause_row(session, program_id, cause_id)
        if cause is None or (merged["active"] and not cause.active):
            raise InvalidRewardError(
                f"no active cause {cause_id} in this program",
                details={"field": "value", "cause_id": cause_id},
            )
    return {**merged, "type": kind.value, "value": value, "details": details, "cause_id": cause_id}


_COLUMNS = (
    "name", "description", "type", "points_cost", "value", "cause_id", "stock",
    "per_member_limit", "valid_from", "valid_until", "tiers", "channels", "code_valid_days",
    "details", "active",
)  # fmt: skip


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    stored = {k: values.get(k) for k in _COLUMNS}
    for field in _JSON_FIELDS:
        if stored[field] is not None:
            stored[field] = json.dumps(stored[field], separators=(",", ":"))
    return stored


def _loaded(row: Any, field: str) -> Any:
    raw = getattr(row, field)
    return None if raw is None else json.loads(raw)
