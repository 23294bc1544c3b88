"""Every refusal is {"error": {code, message, details}} with a stable code, never a stack
trace, and never leaves partial state behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from punchcard.programs.domain import Scope
from tests.conftest import Api

MAX_POINTS = 10**12


def enrol(api: Api) -> int:
    response = api.client.post(
        "/v1/members", json={"external_id": f"cust-{uuid.uuid4().hex[:10]}"}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def funded(api: Api, points: int = 100) -> int:
    member = enrol(api)
    response = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": points, "reason": "seed"},
        headers=api.headers(),
    )
    assert response.status_code == 201, response.text
    return member


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape: exactly error{code, message, details}, no stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    error: dict[str, Any] = body["error"]
    return error


def state(api: Api, member: int) -> tuple[dict[str, Any], list[int]]:
    balance = api.client.get(f"/v1/members/{member}/balance", headers=api.headers()).json()
    history = api.client.get(f"/v1/members/{member}/transactions", headers=api.headers()).json()
    return balance, [t["id"] for t in history["items"]]


# --- malformed bodies --------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b'{"points": 10, "reason": }', b"not json"])
def test_malformed_json_is_400_malformed_json(api: Api, raw: bytes) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend",
        content=raw,
        headers={**api.headers(), "Content-Type": "application/json"},
    )

    assert_error(response, 400, "malformed_json")


def test_malformed_json_on_enrolment_is_400(api: Api) -> None:
    response = api.client.post(
        "/v1/members",
        content=b'{"external_id": "x",',
        headers={**api.headers(), "Content-Type": "application/json"},
    )

    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize("points", ["abc", True, 1.5, "10", None, [10], {"n": 1}])
def test_points_of_the_wrong_type_are_refused(api: Api, points: object) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend",
        json={"points": points, "reason": "reward"},
        headers=api.headers(),
    )

    error = assert_error(response, 422, "invalid_points")
    assert error["details"]["errors"][0]["field"] == "points"


@pytest.mark.parametrize("points", ["abc", False, 2.5])
def test_adjustment_points_of_the_wrong_type_are_refused(api: Api, points: object) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": points, "reason": "x"},
        headers=api.headers(),
    )

    assert_error(response, 422, "invalid_points")


@pytest.mark.parametrize(
    "body",
    [
        {"points": 10, "reason": 12},
        {"points": 10, "reason": ["a"]},
        {"points": 10, "reason": "ok", "reference": 5},
    ],
)
def test_other_fields_of_the_wrong_type_are_wrong_type(api: Api, body: dict[str, Any]) -> None:
    member = enrol(api)

    response = api.client.post(f"/v1/members/{member}/spend", json=body, headers=api.headers())

    assert_error(response, 422, "wrong_type")


def test_a_body_that_is_not_an_object_is_wrong_type(api: Api) -> None:
    member = enrol(api)

    response = api.client.post(f"/v1/members/{member}/spend", json=[1, 2], headers=api.headers())

    assert_error(response, 422, "wrong_type")


def test_member_id_that_is_not_a_number_is_wrong_type(api: Api) -> None:
    response = api.client.get("/v1/members/abc", headers=api.headers())

    error = assert_error(response, 422, "wrong_type")
    assert error["details"]["errors"][0]["field"] == "member_id"


def test_unknown_field_is_422_unknown_field(api: Api) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend",
        json={"points": 10, "reason": "x", "pointz": 10},
        headers=api.headers(),
    )

    error = assert_error(response, 422, "unknown_field")
    assert error["details"]["errors"][0]["field"] == "pointz"


def test_unknown_field_on_enrolment_is_422_unknown_field(api: Api) -> None:
    response = api.client.post(
        "/v1/members",
        json={"external_id": f"x-{uuid.uuid4().hex}", "points": 5},
        headers=api.headers(),
    )

    assert_error(response, 422, "unknown_field")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "x"}, "points"), ({"points": 10}, "reason"), ({}, "points")],
)
def test_missing_field_is_422_missing_field(api: Api, body: dict[str, Any], field: str) -> None:
    member = enrol(api)

    response = api.client.post(f"/v1/members/{member}/spend", json=body, headers=api.headers())

    error = assert_error(response, 422, "missing_field")
    assert error["details"]["errors"][0]["field"] == field


def test_several_problems_are_all_listed(api: Api) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend", json={"extra": 1}, headers=api.headers()
    )

    error = assert_error(response, 422, "missing_field")
    fields = {e["field"] for e in error["details"]["errors"]}
    assert fields == {"points", "reason", "extra"}
    assert "more" in error["message"]


@pytest.mark.parametrize("points", [0, -1, -50, MAX_POINTS + 1, 10**30])
def test_spend_points_out_of_range_are_invalid_points(api: Api, points: int) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend", json={"points": points, "reason": "x"}, headers=api.headers()
    )

    assert_error(response, 422, "invalid_points")


@pytest.mark.parametrize("points", [0, MAX_POINTS + 1, -(MAX_POINTS + 1)])
def test_adjustment_points_out_of_range_are_invalid_points(api: Api, points: int) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": points, "reason": "x"},
        headers=api.headers(),
    )

    assert_error(response, 422, "invalid_points")


def test_the_largest_allowed_adjustment_is_accepted(api: Api) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": MAX_POINTS, "reason": "x"},
        headers=api.headers(),
    )

    assert response.status_code == 201, response.text
    balance = api.client.get(f"/v1/members/{member}/balance", headers=api.headers()).json()
    assert balance["available"] == MAX_POINTS


@pytest.mark.parametrize("points", [0, -5])
def test_reversal_points_out_of_range_are_invalid_points(api: Api, points: int) -> None:
    member = enrol(api)
    tx = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": 5, "reason": "x"},
        headers=api.headers(),
    ).json()

    response = api.client.post(
        f"/v1/members/{member}/transactions/{tx['id']}/reversals",
        json={"points": points, "reason": "x"},
        headers=api.headers(),
    )

    assert_error(response, 422, "invalid_points")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_empty_or_over_long_reason_is_refused(api: Api, reason: str) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/spend", json={"points": 1, "reason": reason}, headers=api.headers()
    )

    assert_error(response, 422, "validation_error")


# --- unknown things ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/members/{m}", None),
        ("GET", "/v1/members/{m}/balance", None),
        ("GET", "/v1/members/{m}/transactions", None),
        ("GET", "/v1/members/{m}/card.svg", None),
        ("PATCH", "/v1/members/{m}", {"name": "x"}),
        ("POST", "/v1/members/{m}/spend", {"points": 1, "reason": "x"}),
        ("POST", "/v1/members/{m}/adjustments", {"points": 1, "reason": "x"}),
        ("POST", "/v1/members/{m}/transactions/1/reversals", {"reason": "x"}),
    ],
)
def test_unknown_member_is_404_member_not_found(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api.client.request(
        method, path.format(m=987_654_321), json=body, headers=api.headers()
    )

    error = assert_error(response, 404, "member_not_found")
    assert error["details"] == {"member_id": 987_654_321}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_transaction_is_404_transaction_not_found(api: Api, method: str) -> None:
    member = funded(api)
    path = f"/v1/members/{member}/transactions/987654321"
    if method == "POST":
        path += "/reversals"

    response = api.client.request(method, path, json={"reason": "x"}, headers=api.headers())

    error = assert_error(response, 404, "transaction_not_found")
    assert error["details"] == {"transaction_id": 987654321}


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v2/members", "/", "/v1/members/1/nope"])
def test_unknown_route_is_404_not_found(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.headers())

    assert_error(response, 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape(api: Api) -> None:
    response = api.client.delete("/v1/members", headers=api.headers())

    assert_error(response, 405, "method_not_allowed")


# --- authentication and scopes -----------------------------------------------------------


def test_missing_api_key_is_401_unauthenticated(api: Api) -> None:
    member = funded(api)

    for response in (
        api.client.get("/v1/members"),
        api.client.get(f"/v1/members/{member}/balance"),
        api.client.post(f"/v1/members/{member}/spend", json={"points": 1, "reason": "x"}),
    ):
        assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer pc_not-a-real-key",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "pc_no_scheme",
    ],
)
def test_bad_api_key_is_401(api: Api, authorization: str) -> None:
    member = enrol(api)

    response = api.client.get(
        f"/v1/members/{member}/balance", headers={"Authorization": authorization}
    )

    assert_error(response, 401, "unauthenticated")


def test_a_key_of_the_right_program_with_a_typo_is_401(api: Api) -> None:
    good = api.keys[Scope.ADMIN]

    response = api.client.get("/v1/members", headers={"Authorization": f"Bearer {good}x"})

    assert_error(response, 401, "unauthenticated")


def test_analyst_key_cannot_spend(api: Api) -> None:
    member = funded(api)

    response = api.client.post(
        f"/v1/members/{member}/spend",
        json={"points": 10, "reason": "x"},
        headers=api.headers(Scope.ANALYST),
    )

    error = assert_error(response, 403, "insufficient_scope")
    assert error["details"]["has"] == ["analyst"]
    assert "analyst" not in error["details"]["needed"]
    assert state(api, member)[0]["available"] == 100


def test_analyst_key_cannot_enrol_or_patch(api: Api) -> None:
    member = enrol(api)

    enrolment = api.client.post(
        "/v1/members", json={"external_id": "by-analyst"}, headers=api.headers(Scope.ANALYST)
    )
    patch = api.client.patch(
        f"/v1/members/{member}", json={"name": "x"}, headers=api.headers(Scope.ANALYST)
    )

    assert_error(enrolment, 403, "insufficient_scope")
    assert_error(patch, 403, "insufficient_scope")
    found = api.client.get(
        "/v1/members", params={"external_id": "by-analyst"}, headers=api.headers()
    )
    assert found.json()["items"] == []


@pytest.mark.parametrize("scope", [Scope.STOREFRONT, Scope.POS, Scope.ANALYST])
def test_only_admin_keys_can_adjust(api: Api, scope: Scope) -> None:
    member = enrol(api)

    response = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": 10, "reason": "x"},
        headers=api.headers(scope),
    )

    error = assert_error(response, 403, "insufficient_scope")
    assert error["details"]["needed"] == ["admin"]
    assert state(api, member) == (
        {"available": 0, "pending": 0, "debt": 0, "lifetime_earned": 0, "expiring": []},
        [],
    )


# --- no partial state --------------------------------------------------------------------


def test_refused_spend_leaves_balance_and_history_unchanged(api: Api) -> None:
    member = funded(api, 50)
    before = state(api, member)

    response = api.client.post(
        f"/v1/members/{member}/spend", json={"points": 51, "reason": "x"}, headers=api.headers()
    )

    assert_error(response, 409, "insufficient_points")
    assert state(api, member) == before


def test_refused_reversal_leaves_balance_and_history_unchanged(api: Api) -> None:
    member = funded(api, 50)
    _, history = state(api, member)
    before = state(api, member)

    response = api.client.post(
        f"/v1/members/{member}/transactions/{history[0]}/reversals",
        json={"points": 51, "reason": "x"},
        headers=api.headers(),
    )

    assert_error(response, 422, "reversal_exceeds_original")
    assert state(api, member) == before


def test_invalid_body_leaves_balance_and_history_unchanged(api: Api) -> None:
    member = funded(api, 50)
    before = state(api, member)

    response = api.client.post(
        f"/v1/members/{member}/spend",
        json={"points": 10, "reason": "x", "surprise": True},
        headers=api.headers(),
    )

    assert_error(response, 422, "unknown_field")
    assert state(api, member) == before
