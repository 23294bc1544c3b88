"""A catalog reward granted by a challenge: its code is made when the member first asks for it
(nobody would see it inside the event's transaction), shown once, and works at checkout; a
granted reward can be cancelled with no points to give back."""

from __future__ import annotations

from typing import Any

import pytest

from punchcard.programs.domain import Scope
from tests.challenges.helpers import create, enrol, order, step
from tests.conftest import Api
from tests.rewards.helpers import create_reward


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUNCHCARD_SECRET_KEY", "test-secret-key-for-sealing-0123456789")


def granted(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    reward = create_reward(api, stock=5, points_cost=500)
    create(api, steps=[step(1)], reward={"reward_id": reward["id"]})
    member = enrol(api)
    order(api, member)
    (redemption,) = api.client.get(
        f"/v1/members/{member['id']}/redemptions", headers=api.headers()
    ).json()["items"]
    return member, redemption


def reveal(api: Api, member_id: int, redemption_id: int, key: str | None = None) -> Any:
    headers = api.headers(Scope.STOREFRONT, **({"Idempotency-Key": key} if key else {}))
    return api.client.post(
        f"/v1/members/{member_id}/redemptions/{redemption_id}/code", headers=headers
    )


def test_the_code_is_made_on_first_ask_shown_once_and_valid_at_checkout(api: Api) -> None:
    member, redemption = granted(api)
    assert redemption["code_to_claim"] is True
    assert redemption["code_hint"] is None
    assert redemption["code_expires_at"] is not None

    first = reveal(api, member["id"], redemption["id"], key="reveal-1")
    assert first.status_code == 200, first.text
    code = first.json()["code"]
    assert code
    assert first.json()["code_hint"] == code[-4:]
    assert first.json()["code_to_claim"] is False
    again = reveal(api, member["id"], redemption["id"], key="reveal-1")
    assert again.content == first.content  # a retry with the same key gets the same code

    other = reveal(api, member["id"], redemption["id"])
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "no_code_to_reveal"

    valid = api.client.post(
        "/v1/codes/validate", json={"code": code}, headers=api.headers(Scope.POS)
    )
    assert valid.status_code == 200, valid.text
    assert valid.json()["valid"] is True


def test_another_members_grant_and_an_unknown_one_are_not_found(api: Api) -> None:
    member, redemption = granted(api)
    stranger = enrol(api)
    response = reveal(api, stranger["id"], redemption["id"])
    assert response.status_code == 404
    assert reveal(api, member["id"], 10**12).status_code == 404


def test_a_granted_reward_cancels_without_a_ledger_reversal(api: Api) -> None:
    member, redemption = granted(api)
    response = api.client.post(
        f"/v1/members/{member['id']}/redemptions/{redemption['id']}/cancel",
        headers=api.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancel_transaction_id"] is None
    late = reveal(api, member["id"], redemption["id"])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "already_cancelled"
