"""A key of program A can never read or change anything of program B: B's things are 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api, ProgramFactory


@dataclass
class Tenants:
    a: Api
    b: Api
    member_a: dict[str, Any]
    member_b: dict[str, Any]
    credit_b: dict[str, Any]


def enrol(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"external_id": f"cust-{uuid.uuid4().hex[:10]}", **fields}
    response = api.client.post("/v1/members", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def adjust(api: Api, member_id: int, points: int) -> dict[str, Any]:
    response = api.client.post(
        f"/v1/members/{member_id}/adjustments",
        json={"points": points, "reason": "seed"},
        headers=api.headers(),
    )
    assert response.status_code == 201, response.text
    tx: dict[str, Any] = response.json()
    return tx


def snapshot(api: Api, member_id: int) -> tuple[Any, Any, Any]:
    headers = api.headers()
    return (
        api.client.get(f"/v1/members/{member_id}", headers=headers).json(),
        api.client.get(f"/v1/members/{member_id}/balance", headers=headers).json(),
        api.client.get(f"/v1/members/{member_id}/transactions", headers=headers).json(),
    )


@pytest.fixture
def tenants(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> Tenants:
    other = Api(client, db, make_program(), clock())
    member_a = enrol(api, email="a@example.com", phone="+14155550101")
    member_b = enrol(other, email="b@example.com", phone="+14155550102")
    adjust(api, member_a["id"], 100)
    credit_b = adjust(other, member_b["id"], 100)
    return Tenants(api, other, member_a, member_b, credit_b)


def requests_on(member_id: int, tx_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/v1/members/{member_id}"
    return [
        ("GET", base, None),
        ("GET", f"{base}/balance", None),
        ("GET", f"{base}/transactions", None),
        ("GET", f"{base}/transactions/{tx_id}", None),
        ("GET", f"{base}/card.svg", None),
        ("GET", f"{base}/card.png", None),
        ("PATCH", base, {"name": "hijacked", "email": "evil@example.com"}),
        ("POST", f"{base}/spend", {"points": 10, "reason": "steal"}),
        ("POST", f"{base}/adjustments", {"points": 10, "reason": "gift"}),
        ("POST", f"{base}/adjustments", {"points": -10, "reason": "take"}),
        ("POST", f"{base}/transactions/{tx_id}/reversals", {"reason": "undo"}),
    ]


@pytest.mark.parametrize("scope", [Scope.ADMIN, Scope.ANALYST])
def test_program_a_key_gets_404_for_everything_of_program_b(tenants: Tenants, scope: Scope) -> None:
    a, member_b = tenants.a, tenants.member_b
    before = snapshot(tenants.b, member_b["id"])

    for method, path, body in requests_on(member_b["id"], tenants.credit_b["id"]):
        response = a.client.request(method, path, json=body, headers=a.headers(scope))
        if scope is Scope.ANALYST and method != "GET":
            assert response.status_code == 403, (method, path, response.text)
            continue
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"].endswith("_not_found"), (method, path)
        assert "b@example.com" not in response.text

    assert snapshot(tenants.b, member_b["id"]) == before


def test_program_b_transaction_on_a_member_of_a_is_404(tenants: Tenants) -> None:
    a, member_a, credit_b = tenants.a, tenants.member_a, tenants.credit_b
    before = snapshot(tenants.b, tenants.member_b["id"])
    base = f"/v1/members/{member_a['id']}/transactions/{credit_b['id']}"

    read = a.client.get(base, headers=a.headers())
    reversal = a.client.post(f"{base}/reversals", json={"reason": "undo"}, headers=a.headers())

    for response in (read, reversal):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "transaction_not_found"
    assert snapshot(tenants.b, tenants.member_b["id"]) == before


def test_listing_members_never_shows_another_program(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    more_b = [enrol(b)["id"] for _ in range(3)]
    b_ids = {tenants.member_b["id"], *more_b}

    seen: list[int] = []
    cursor: str | None = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        page = a.client.get("/v1/members", params=params, headers=a.headers()).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [tenants.member_a["id"]]
    assert b_ids.isdisjoint(seen)
    b_list = b.client.get("/v1/members", headers=b.headers()).json()
    assert {m["id"] for m in b_list["items"]} == b_ids


@pytest.mark.parametrize("identifier", ["external_id", "email", "phone", "card_number", "qr"])
def test_lookups_by_identifier_never_find_another_programs_member(
    tenants: Tenants, identifier: str
) -> None:
    member_b = tenants.member_b
    value = member_b["card"]["qr_token"] if identifier == "qr" else member_b[identifier]
    param = "qr_token" if identifier == "qr" else identifier

    from_a = tenants.a.client.get("/v1/members", params={param: value}, headers=tenants.a.headers())
    from_b = tenants.b.client.get("/v1/members", params={param: value}, headers=tenants.b.headers())

    assert from_a.status_code == 200
    assert from_a.json()["items"] == []
    assert [m["id"] for m in from_b.json()["items"]] == [member_b["id"]]


def test_the_same_external_id_in_two_programs_is_two_members(tenants: Tenants) -> None:
    external_id = f"shared-{uuid.uuid4().hex[:8]}"

    in_a = tenants.a.client.post(
        "/v1/members", json={"external_id": external_id}, headers=tenants.a.headers()
    )
    in_b = tenants.b.client.post(
        "/v1/members", json={"external_id": external_id}, headers=tenants.b.headers()
    )

    assert in_a.status_code == 201, in_a.text
    assert in_b.status_code == 201, in_b.text
    assert in_a.json()["id"] != in_b.json()["id"]
    assert in_a.json()["card_number"] != in_b.json()["card_number"]


def test_the_same_email_in_two_programs_belongs_to_each_separately(tenants: Tenants) -> None:
    a_member = enrol(tenants.a, email="shared@example.com")
    b_member = enrol(tenants.b, email="shared@example.com")

    from_a = tenants.a.client.get(
        "/v1/members", params={"email": "shared@example.com"}, headers=tenants.a.headers()
    ).json()
    from_b = tenants.b.client.get(
        "/v1/members", params={"email": "shared@example.com"}, headers=tenants.b.headers()
    ).json()

    assert [m["id"] for m in from_a["items"]] == [a_member["id"]]
    assert [m["id"] for m in from_b["items"]] == [b_member["id"]]


def test_each_key_sees_its_own_program(tenants: Tenants) -> None:
    a = tenants.a.client.get("/v1/program", headers=tenants.a.headers(Scope.ANALYST)).json()
    b = tenants.b.client.get("/v1/program", headers=tenants.b.headers(Scope.ANALYST)).json()

    assert a["id"] == tenants.a.program.id
    assert b["id"] == tenants.b.program.id
    assert a["id"] != b["id"]
