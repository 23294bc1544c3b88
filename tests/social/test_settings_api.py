"""GET/PUT /v1/social/settings: admin only, defaults before the first PUT, every field
checked, and turning sharing on or off reroutes the program's events at once."""

from __future__ import annotations

from typing import Any

import pytest

from punchcard.db import Database
from punchcard.engagement import hooks as engagement
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.social.helpers import SHOP, error, put_settings


def test_defaults_before_the_first_put(api: Api) -> None:
    response = api.client.get("/v1/social/settings", headers=api.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["configured"], body["active"], body["updated_at"]) == (False, False, None)
    assert body["earn_on"] == "share"
    assert "facebook" in body["platforms"]


def test_put_replaces_the_settings_and_get_reads_them_back(api: Api) -> None:
    body = put_settings(
        api,
        points_per_share=7,
        daily_cap_per_platform=4,
        earn_on="click",
        platforms=["x", "facebook", "x"],
        utm_campaign="friends",
        attribution_days=14,
    )
    read = api.client.get("/v1/social/settings", headers=api.headers()).json()
    assert read == body
    assert body["configured"]
    assert body["active"]
    assert body["platforms"] == ["x", "facebook"]  # once each, in the order given
    assert (body["points_per_share"], body["daily_cap_per_platform"]) == (7, 4)
    assert (body["earn_on"], body["target_url"], body["utm_campaign"]) == ("click", SHOP, "friends")
    assert body["attribution_days"] == 14

    replaced = put_settings(api, active=False)
    assert replaced["earn_on"] == "share"
    assert not replaced["active"]


@pytest.mark.parametrize(
    "field",
    [
        {"points_per_share": -1},
        {"points_per_share": "10"},
        {"daily_cap_per_platform": 0},
        {"earn_on": "view"},
        {"platforms": []},
        {"platforms": ["myspace"]},
        {"target_url": "ftp://shop.example.com"},
        {"target_url": "https://shop.example.com/\x00"},
        {"utm_campaign": ""},
        {"utm_campaign": "a\nb"},
        {"attribution_days": 0},
        {"attribution_days": 366},
        {"surprise": True},
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(api: Api, field: dict[str, Any]) -> None:
    before = put_settings(api, points_per_share=3)
    response = api.client.put(
        "/v1/social/settings", json={"points_per_share": 5, **field}, headers=api.headers()
    )
    assert response.status_code == 422, response.text
    assert "code" in error(response)
    after = api.client.get("/v1/social/settings", headers=api.headers()).json()
    assert after == before


def test_settings_are_for_admin_keys_only(api: Api) -> None:
    for scope in (Scope.STOREFRONT, Scope.POS, Scope.ANALYST):
        headers = api.headers(scope)
        assert api.client.get("/v1/social/settings", headers=headers).status_code == 403
        assert api.client.put("/v1/social/settings", json={}, headers=headers).status_code == 403
    assert api.client.get("/v1/social/settings").status_code == 401


def test_the_summary_is_for_admin_and_analyst_keys(api: Api) -> None:
    for scope, status in ((Scope.ADMIN, 200), (Scope.ANALYST, 200), (Scope.STOREFRONT, 403)):
        response = api.client.get("/v1/social/summary", headers=api.headers(scope))
        assert response.status_code == status, scope


def test_settings_writes_reroute_the_programs_events_at_once(api: Api, db: Database) -> None:
    """`hooks.configured` is cached per process: a PUT must forget it."""
    assert engagement.cached_configured(db, api.program.id) == frozenset()
    put_settings(api)
    assert engagement.cached_configured(db, api.program.id) == {"social"}
    put_settings(api, active=False)
    assert engagement.cached_configured(db, api.program.id) == frozenset()
