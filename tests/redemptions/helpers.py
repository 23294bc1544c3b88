"""Rewards and causes written straight into their tables (the catalog's API is not what
these tests are about), and members funded through the API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from punchcard.db import Database, session_scope
from punchcard.models import Balance, Cause, Redemption, Reward
from punchcard.models.base import table_of
from punchcard.programs.domain import ProgramSettings, Scope
from tests.conftest import START, Api
from tests.rewards.helpers import enrol
from tests.rewards.helpers import give_points as fund


def make_reward(
    db: Database, program: ProgramSettings, *, type: str = "discount_amount", **fields: Any
) -> int:
    values: dict[str, Any] = {
        "program_id": program.id,
        "name": f"{type} {uuid.uuid4().hex[:4]}",
        "type": type,
        "points_cost": 100,
        "value": {
            "discount_amount": "5.00",
            "discount_percent": "15",
            "gift_card": "25.00",
            "free_product": "SKU-MUG",
        }.get(type),
        "claimed": 0,
        "code_valid_days": 30,
        "active": True,
        "created_at": START,
        "updated_at": START,
    }
    for key in ("tiers", "channels", "details"):
        if key in fields and fields[key] is not None:
            fields[key] = json.dumps(fields[key])
    values.update(fields)
    with session_scope(db.writer) as session:
        return int(
            session.execute(
                insert(table_of(Reward)).values(**values).returning(Reward.id)
            ).scalar_one()
        )


def make_cause(
    db: Database,
    program: ProgramSettings,
    *,
    name: str = "Plant trees",
    unit: str = "tree",
    points_per_unit: int = 500,
    active: bool = True,
) -> int:
    with session_scope(db.writer) as session:
        return int(
            session.execute(
                insert(table_of(Cause))
                .values(
                    program_id=program.id,
                    name=name,
                    impact_unit=unit,
                    points_per_unit=points_per_unit,
                    active=active,
                    created_at=START,
                    updated_at=START,
                )
                .returning(Cause.id)
            ).scalar_one()
        )


def member_with(api: Api, points: int) -> int:
    member = enrol(api)
    if points:
        fund(api, member, points)
    return member


def redeem(
    api: Api, member_id: int, reward_id: int, scope: Scope = Scope.STOREFRONT, **extra: Any
) -> Any:
    headers = api.headers(scope)
    key = extra.pop("key", None)
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.client.post(
        f"/v1/members/{member_id}/redemptions",
        json={"reward_id": reward_id, **extra},
        headers=headers,
    )


def issued(api: Api, member_id: int, reward_id: int) -> dict[str, Any]:
    response = redeem(api, member_id, reward_id)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def available(api: Api, member_id: int) -> int:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    points: int = response.json()["available"]
    return points


def error(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def claimed(db: Database, reward_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(select(Reward.claimed).where(Reward.id == reward_id)).scalar_one()
        )


def redemption_count(db: Database, program: ProgramSettings) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                select(func.count()).where(Redemption.program_id == program.id)
            ).scalar_one()
        )


def stored_balance(db: Database, program: ProgramSettings, member_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                select(Balance.available).where(
                    Balance.program_id == program.id, Balance.member_id == member_id
                )
            ).scalar_one()
        )


def post(
    api: Api,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    scope: Scope = Scope.STOREFRONT,
) -> Any:
    headers = api.headers(scope)
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.client.post(path, json=body, headers=headers)


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
