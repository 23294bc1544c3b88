"""Building blocks of the challenge tests: challenges through the API, events as the store
sends them, and reads of the rows the API does not show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from punchcard.db import Database
from punchcard.models import LedgerTransaction
from punchcard.models.challenge import ChallengeCompletion
from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, uid

__all__ = ["event", "line", "order_data", "uid"]


def step(target: Any = 3, **fields: Any) -> dict[str, Any]:
    return {"events": ["order.placed"], "target": target, "label": "orders", **fields}


def create(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "Three orders", "steps": [step()], "reward": {"points": 100}, **fields}
    response = api.client.post("/v1/challenges", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    challenge: dict[str, Any] = response.json()
    return challenge


def enrol(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.client.post(
        "/v1/members", json={"external_id": uid("cust"), **fields}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def send(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/v1/events", json=body, headers=api.headers(Scope.STOREFRONT))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def order(
    api: Api, member: dict[str, Any], total: str = "10.00", *, at: datetime | str | None = None,
    order_id: str | None = None, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    body = event(
        "order.placed",
        order_data(line("sku-1", 1, total), order_id=order_id),
        customer=member["external_id"],
        at=START if at is None else at,
        **extra,
    )
    return send(api, body)


def join(api: Api, member_id: int, challenge_id: int) -> Any:
    return api.client.post(
        f"/v1/members/{member_id}/challenges/{challenge_id}/join",
        headers=api.headers(Scope.STOREFRONT),
    )


def view(api: Api, member_id: int) -> dict[int, dict[str, Any]]:
    response = api.client.get(
        f"/v1/members/{member_id}/challenges", headers=api.headers(Scope.ANALYST)
    )
    assert response.status_code == 200, response.text
    return {item["challenge_id"]: item for item in response.json()["items"]}


def balance(api: Api, member_id: int) -> int:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    points: int = response.json()["available"]
    return points


def error(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def completion_count(db: Database, challenge_id: int, member_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                select(func.count()).where(
                    ChallengeCompletion.challenge_id == challenge_id,
                    ChallengeCompletion.member_id == member_id,
                )
            ).scalar_one()
        )


def challenge_credits(db: Database, challenge_id: int, member_id: int) -> int:
    """Ledger credits a challenge gave the member (reason "challenge")."""
    with db.reader() as session:
        return int(
            session.execute(
                select(func.count()).where(
                    LedgerTransaction.member_id == member_id,
                    LedgerTransaction.reason == "challenge",
                    LedgerTransaction.reference.like(f"challenge:{challenge_id}:%"),
                )
            ).scalar_one()
        )
