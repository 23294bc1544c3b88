"""Building blocks of the catalog's API tests: members with points, rewards, causes, and
donations or claims written straight to the database where their own API is not ours."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import insert, update

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Kind
from punchcard.models import MemberTier, Redemption, Reward, TierPolicy
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope
from tests.conftest import Api


def enrol(api: Api) -> int:
    response = api.client.post(
        "/v1/members", json={"external_id": f"cust-{uuid.uuid4().hex[:10]}"}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def give_points(api: Api, member_id: int, points: int) -> None:
    response = api.client.post(
        f"/v1/members/{member_id}/adjustments",
        json={"points": points, "reason": "seed"},
        headers=api.headers(),
    )
    assert response.status_code == 201, response.text


def post(api: Api, path: str, body: dict[str, Any], scope: Scope = Scope.ADMIN) -> Any:
    return api.client.post(path, json=body, headers=api.headers(scope))


def patch(api: Api, path: str, body: dict[str, Any], scope: Scope = Scope.ADMIN) -> Any:
    return api.client.patch(path, json=body, headers=api.headers(scope))


def get(api: Api, path: str, scope: Scope = Scope.ANALYST, **params: Any) -> Any:
    return api.client.get(path, params=params, headers=api.headers(scope))


def create_reward(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "5 off", "type": "discount_amount", "points_cost": 500, "value": "5", **fields}
    response = post(api, "/v1/rewards", body)
    assert response.status_code == 201, response.text
    reward: dict[str, Any] = response.json()
    return reward


def create_cause(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "Plant trees", "impact_unit": "tree", "points_per_unit": 500, **fields}
    response = post(api, "/v1/causes", body)
    assert response.status_code == 201, response.text
    cause: dict[str, Any] = response.json()
    return cause


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def set_claimed(db: Database, reward_id: int, claimed: int) -> None:
    """As if members had claimed stock: the redemptions' own API is not the catalog's."""
    with session_scope(db.writer) as session:
        session.execute(update(Reward).where(Reward.id == reward_id).values(claimed=claimed))


def donate(
    db: Database,
    clock: FixedClock,
    *,
    program_id: int,
    member_id: int,
    cause_id: int,
    points: int,
    units: str,
    status: str = "completed",
) -> None:
    """A donation as the redemptions write it: the ledger debit and its completed row."""
    now = clock()
    with session_scope(db.writer) as session:
        program = programs.get_program(session, program_id)
        tx_id = ledger.debit(
            session,
            program=program,
            member_id=member_id,
            points=points,
            reason="donation",
            now=now,
            kind=Kind.DONATE,
        )
        session.execute(
            insert(Redemption).values(
                program_id=program_id,
                member_id=member_id,
                cause_id=cause_id,
                type="donation",
                points=points,
                value=units,  # impact units as the donation recorded them
                status=status,
                transaction_id=tx_id,
                created_at=now,
                updated_at=now,
            )
        )


def redeem(
    db: Database, clock: FixedClock, program_id: int, member_id: int, reward_id: int, status: str
) -> None:
    """A redemption of a reward as the redemptions write it, with its ledger debit."""
    with session_scope(db.writer) as session:
        program = programs.get_program(session, program_id)
        tx_id = ledger.debit(
            session, program=program, member_id=member_id, points=1, reason="r", now=clock()
        )
        session.execute(
            insert(Redemption).values(
                program_id=program_id,
                member_id=member_id,
                reward_id=reward_id,
                type="discount_amount",
                points=1,
                status=status,
                transaction_id=tx_id,
                created_at=clock(),
                updated_at=clock(),
            )
        )


def set_tier_policy(db: Database, clock: FixedClock, program_id: int, names: list[str]) -> None:
    tiers = [{"name": n, "threshold": i * 100} for i, n in enumerate(names)]
    with session_scope(db.writer) as session:
        session.execute(
            insert(TierPolicy).values(
                program_id=program_id,
                metric="points",
                qualification_window="lifetime",
                downgrade="one_down",
                grace_days=0,
                tiers=json.dumps(tiers),
                version=1,
                updated_at=clock(),
            )
        )


def hold_tier(db: Database, clock: FixedClock, program_id: int, member_id: int, tier: str) -> None:
    with session_scope(db.writer) as session:
        session.execute(
            insert(MemberTier).values(
                program_id=program_id,
                member_id=member_id,
                tier=tier,
                since=clock(),
                granted=True,
                updated_at=clock(),
            )
        )
