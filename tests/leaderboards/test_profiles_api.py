"""/v1/members/{id}/leaderboard-profile: names the member chooses, never an e-mail or a phone
number, and opting in and out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api, ProgramFactory
from tests.events.test_events_api import enrol
from tests.leaderboards.helpers import put_profile


def _put(api: Api, member_id: int, body: dict[str, Any], scope: Scope = Scope.STOREFRONT) -> Any:
    return api.client.put(
        f"/v1/members/{member_id}/leaderboard-profile", json=body, headers=api.headers(scope)
    )


def _get(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/members/{member_id}/leaderboard-profile", headers=api.headers(Scope.STOREFRONT)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_member_is_out_until_they_choose(api: Api) -> None:
    member = enrol(api)["id"]
    assert _get(api, member) == {
        "member_id": member,
        "display_name": None,
        "opted_in": False,
        "updated_at": None,
    }
    put = put_profile(api, member, "  Speedy Shopper ")
    assert (put["display_name"], put["opted_in"]) == ("Speedy Shopper", True)
    assert _get(api, member) == put
    out = put_profile(api, member, "Speedy Shopper", opted_in=False)
    assert (out["display_name"], out["opted_in"]) == ("Speedy Shopper", False)
    cleared = put_profile(api, member, None, opted_in=False)
    assert cleared["display_name"] is None


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ({"display_name": "anna@example.com", "opted_in": True}, "display_name_invalid", "email"),
        ({"display_name": "Anna @ gmail", "opted_in": False}, "display_name_invalid", "email"),
        ({"display_name": "+44 20 7946 0958", "opted_in": True}, "display_name_invalid", "phone"),
        ({"display_name": "A", "opted_in": True}, "display_name_invalid", "length"),
        ({"display_name": "  A  ", "opted_in": True}, "display_name_invalid", "length"),
        ({"display_name": "x" * 31, "opted_in": True}, "display_name_invalid", "length"),
        ({"display_name": "bell\x07", "opted_in": True}, "display_name_invalid", "characters"),
        ({"opted_in": True}, "display_name_required", None),
        ({"display_name": None, "opted_in": True}, "display_name_required", None),
        ({"display_name": "Anna"}, "missing_field", None),
        ({"display_name": 42, "opted_in": True}, "wrong_type", None),
        ({"display_name": "Anna", "opted_in": True, "email": "a@b.c"}, "unknown_field", None),
    ],
)
def test_names_that_could_identify_a_member_are_refused(
    api: Api, body: dict[str, Any], code: str, reason: str | None
) -> None:
    member = enrol(api)["id"]
    put_profile(api, member, "Before", opted_in=False)
    response = _put(api, member, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if reason is not None:
        assert error["details"] == {"field": "display_name", "reason": reason}
    after = _get(api, member)
    assert (after["display_name"], after["opted_in"]) == ("Before", False)  # unchanged


def test_profiles_of_strangers_and_scopes(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    member = enrol(api)["id"]
    assert (
        _put(api, member, {"display_name": "Anna", "opted_in": True}, Scope.ANALYST).status_code
        == 403
    )
    assert (
        _put(api, member, {"display_name": "Anna", "opted_in": True}, Scope.POS).status_code == 200
    )
    other = Api(client, db, make_program(), clock())
    assert _put(other, member, {"display_name": "Mine", "opted_in": True}).status_code == 404
    response = other.client.get(
        f"/v1/members/{member}/leaderboard-profile", headers=other.headers()
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "member_not_found"
    assert _get(api, member)["display_name"] == "Anna"


def test_a_retried_put_replays(api: Api) -> None:
    member = enrol(api)["id"]
    headers = api.headers(Scope.STOREFRONT, **{"Idempotency-Key": "k1"})
    path = f"/v1/members/{member}/leaderboard-profile"
    first = api.client.put(path, json={"display_name": "Anna", "opted_in": True}, headers=headers)
    again = api.client.put(path, json={"display_name": "Anna", "opted_in": True}, headers=headers)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.client.put(path, json={"display_name": "Bob", "opted_in": True}, headers=headers)
    assert other.status_code == 409
