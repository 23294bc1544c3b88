"""Idempotency-Key: a retry gets the first response byte for byte and writes nothing new."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ProgramSettings, Scope
from tests.conftest import START, Api, ProgramFactory


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def with_key(api: Api, key: str, scope: Scope = Scope.ADMIN) -> dict[str, str]:
    return {**api.headers(scope), "Idempotency-Key": key}


def enrol(api: Api) -> int:
    response = api.client.post(
        "/v1/members", json={"external_id": f"cust-{uuid.uuid4().hex[:10]}"}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def adjust(api: Api, member: int, points: int, key: str | None = None) -> Any:
    headers = with_key(api, key) if key is not None else api.headers()
    return api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": points, "reason": "goodwill"},
        headers=headers,
    )


def spend(api: Api, member: int, points: int, key: str, reason: str = "reward") -> Any:
    return api.client.post(
        f"/v1/members/{member}/spend",
        json={"points": points, "reason": reason},
        headers=with_key(api, key, Scope.POS),
    )


def available(api: Api, member: int) -> int:
    body = api.client.get(f"/v1/members/{member}/balance", headers=api.headers()).json()
    points: int = body["available"]
    return points


def transaction_ids(api: Api, member: int) -> list[int]:
    page = api.client.get(f"/v1/members/{member}/transactions", headers=api.headers()).json()
    return [t["id"] for t in page["items"]]


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_retry_with_the_same_key_and_body_replays_the_first_response(
    api: Api, clock: FixedClock
) -> None:
    member = enrol(api)
    assert adjust(api, member, 100).status_code == 201
    key = new_key()

    first = spend(api, member, 30, key)
    clock.set(START + timedelta(minutes=5))  # a second real write would show a new time
    second = spend(api, member, 30, key)

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert available(api, member) == 70
    ids = transaction_ids(api, member)
    assert len(ids) == 2
    assert ids[0] == first.json()["id"]


def test_many_retries_still_write_once(api: Api) -> None:
    member = enrol(api)
    key = new_key()

    responses = [adjust(api, member, 25, key) for _ in range(4)]

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert [r.headers.get("idempotent-replayed") for r in responses] == [None] + ["true"] * 3
    assert available(api, member) == 25
    assert len(transaction_ids(api, member)) == 1


def test_same_key_with_a_different_body_is_409_idempotency_conflict(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 100)
    key = new_key()
    assert spend(api, member, 30, key).status_code == 201

    other_points = spend(api, member, 31, key)
    other_reason = spend(api, member, 30, key, reason="something else")

    for response in (other_points, other_reason):
        assert response.status_code == 409, response.text
        assert error_code(response) == "idempotency_conflict"
        assert response.json()["error"]["details"] == {"idempotency_key": key}
        assert "idempotent-replayed" not in response.headers
    assert available(api, member) == 70
    assert len(transaction_ids(api, member)) == 2


def test_same_key_on_another_member_or_endpoint_is_a_conflict(api: Api) -> None:
    member, other = enrol(api), enrol(api)
    adjust(api, member, 100)
    adjust(api, other, 100)
    key = new_key()
    assert spend(api, member, 10, key).status_code == 201

    on_other_member = spend(api, other, 10, key)
    on_other_endpoint = adjust(api, member, 10, key)

    assert error_code(on_other_member) == "idempotency_conflict"
    assert error_code(on_other_endpoint) == "idempotency_conflict"
    assert available(api, other) == 100
    assert available(api, member) == 90


def test_body_key_order_does_not_change_the_fingerprint(api: Api) -> None:
    member = enrol(api)
    key = new_key()
    headers = {**with_key(api, key), "Content-Type": "application/json"}
    path = f"/v1/members/{member}/adjustments"

    first = api.client.post(path, content=b'{"points": 5, "reason": "r"}', headers=headers)
    second = api.client.post(path, content=b'{"reason":"r","points":5}', headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert available(api, member) == 5


def test_keys_are_per_program(
    api: Api,
    client: TestClient,
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
) -> None:
    other_api = Api(client, db, make_program(), clock())
    member_a, member_b = enrol(api), enrol(other_api)
    key = new_key()

    in_a = adjust(api, member_a, 10, key)
    in_b = adjust(other_api, member_b, 20, key)

    assert in_a.status_code == 201, in_a.text
    assert in_b.status_code == 201, in_b.text
    assert "idempotent-replayed" not in in_b.headers
    assert in_b.json()["points"] == 20
    assert available(api, member_a) == 10
    assert available(other_api, member_b) == 20
    replay_a = adjust(api, member_a, 10, key)
    assert replay_a.content == in_a.content
    assert replay_a.headers["idempotent-replayed"] == "true"


def test_a_failed_request_does_not_keep_the_key(api: Api) -> None:
    member = enrol(api)
    key = new_key()

    refused = spend(api, member, 50, key)
    assert refused.status_code == 409, refused.text
    assert error_code(refused) == "insufficient_points"
    assert adjust(api, member, 100).status_code == 201
    retried = spend(api, member, 50, key)

    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert available(api, member) == 50
    replay = spend(api, member, 50, key)
    assert replay.content == retried.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert available(api, member) == 50


def test_a_request_refused_by_validation_does_not_keep_the_key(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 100)
    key = new_key()

    refused = spend(api, member, 0, key)
    accepted = spend(api, member, 5, key)

    assert refused.status_code == 422
    assert accepted.status_code == 201, accepted.text
    assert available(api, member) == 95


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000, "tab\there", ""])
def test_invalid_key_is_400_invalid_idempotency_key(api: Api, key: str) -> None:
    member = enrol(api)

    response = adjust(api, member, 10, key)

    assert response.status_code == 400, response.text
    assert error_code(response) == "invalid_idempotency_key"
    assert available(api, member) == 0
    assert transaction_ids(api, member) == []


def test_key_of_255_characters_is_accepted(api: Api) -> None:
    member = enrol(api)
    key = "k" * 254 + uuid.uuid4().hex[:1]

    first = adjust(api, member, 10, key)
    second = adjust(api, member, 10, key)

    assert first.status_code == 201, first.text
    assert second.headers["idempotent-replayed"] == "true"
    assert available(api, member) == 10


def test_enrolment_with_the_same_key_twice_replays_the_201(api: Api) -> None:
    key = new_key()
    body = {"external_id": f"cust-{uuid.uuid4().hex[:10]}", "email": "idem@example.com"}
    headers = with_key(api, key)

    first = api.client.post("/v1/members", json=body, headers=headers)
    second = api.client.post("/v1/members", json=body, headers=headers)
    without_key = api.client.post("/v1/members", json=body, headers=api.headers())

    assert first.status_code == 201, first.text
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert without_key.status_code == 200
    assert without_key.json()["id"] == first.json()["id"]
    listed = api.client.get(
        "/v1/members", params={"external_id": body["external_id"]}, headers=api.headers()
    ).json()
    assert [m["id"] for m in listed["items"]] == [first.json()["id"]]


def test_enrolment_key_reused_for_another_customer_is_a_conflict(api: Api) -> None:
    key = new_key()
    headers = with_key(api, key)
    first = api.client.post("/v1/members", json={"external_id": "idem-a"}, headers=headers)

    second = api.client.post("/v1/members", json={"external_id": "idem-b"}, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert error_code(second) == "idempotency_conflict"
    listed = api.client.get(
        "/v1/members", params={"external_id": "idem-b"}, headers=api.headers()
    ).json()
    assert listed["items"] == []


def test_patch_with_the_same_key_replays_even_after_a_later_change(api: Api) -> None:
    member = enrol(api)
    key = new_key()
    path = f"/v1/members/{member}"

    first = api.client.patch(path, json={"name": "First"}, headers=with_key(api, key))
    api.client.patch(path, json={"name": "Second"}, headers=api.headers())
    replay = api.client.patch(path, json={"name": "First"}, headers=with_key(api, key))

    assert first.status_code == 200, first.text
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"
    current = api.client.get(path, headers=api.headers()).json()
    assert current["name"] == "Second"


def test_reversal_with_the_same_key_twice_reverses_once(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100).json()
    key = new_key()
    path = f"/v1/members/{member}/transactions/{credit['id']}/reversals"
    headers = with_key(api, key)

    first = api.client.post(path, json={"points": 40, "reason": "refund"}, headers=headers)
    second = api.client.post(path, json={"points": 40, "reason": "refund"}, headers=headers)

    assert first.status_code == 201, first.text
    assert second.content == first.content
    assert available(api, member) == 60
    assert len(transaction_ids(api, member)) == 2


def test_program_b_cannot_replay_program_a_response(
    api: Api,
    client: TestClient,
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
) -> None:
    member = enrol(api)
    key = new_key()
    original = adjust(api, member, 10, key)
    assert original.status_code == 201
    program_b: ProgramSettings = make_program()
    other_api = Api(client, db, program_b, clock())

    attempt = adjust(other_api, member, 10, key)

    assert attempt.status_code == 404, attempt.text
    assert error_code(attempt) == "member_not_found"
    assert "idempotent-replayed" not in attempt.headers
    assert available(api, member) == 10
