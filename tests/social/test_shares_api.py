"""POST /v1/members/{id}/shares: one link per member, platform and page, reused when asked
again; a share earns points_per_share once, within the member's cap per platform per UTC day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from punchcard.social.domain import TOKEN_ALPHABET, TOKEN_LENGTH
from tests.conftest import Api
from tests.social.helpers import (
    SHOP,
    available,
    error,
    links,
    member,
    put_settings,
    share,
    share_response,
)

DAY = timedelta(days=1)


def test_a_link_is_made_once_per_platform_and_page_and_reused(api: Api) -> None:
    put_settings(api)
    sharer = member(api)

    first = share_response(api, sharer, "facebook")
    again = share_response(api, sharer, "facebook")
    other_page = share(api, sharer, "facebook", target_url=SHOP + "?color=red")
    other_platform = share(api, sharer, "whatsapp")

    assert (first.status_code, again.status_code) == (201, 200)
    made, reused = first.json(), again.json()
    assert made["token"] == reused["token"]
    assert (made["created"], reused["created"]) == (True, False)
    assert reused["share_count"] == 2
    assert len({made["token"], other_page["token"], other_platform["token"]}) == 3
    token = made["token"]
    assert len(token) == TOKEN_LENGTH
    assert set(token) <= set(TOKEN_ALPHABET)
    assert made["link"] == f"http://testserver/s/{token}"
    assert made["target_url"] == SHOP
    assert made["share_urls"] == {
        "web": f"https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Ftestserver%2Fs%2F{token}"
    }
    assert other_platform["share_urls"]["web"].startswith("https://wa.me/?text=")


def test_links_are_built_on_the_public_url_when_set(
    db: Database, api: Api, clock: FixedClock
) -> None:
    put_settings(api)
    sharer = member(api)
    app = create_app(
        Settings(database_url=db.url, public_url="https://loyalty.example.com/"), db=db, clock=clock
    )
    with TestClient(app) as client:
        response = client.post(
            f"/v1/members/{sharer}/shares",
            json={"platform": "copy"},
            headers=api.headers(Scope.STOREFRONT),
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["link"] == f"https://loyalty.example.com/s/{body['token']}"
    assert body["share_urls"] == {}


def test_a_share_earns_once_and_the_answer_says_so(api: Api) -> None:
    put_settings(api, points_per_share=15)
    sharer = member(api)

    first = share(api, sharer)
    again = share(api, sharer)

    assert (first["points_earned"], first["earn_status"], first["points"]) == (15, "earned", 15)
    assert (again["points_earned"], again["earn_status"], again["points"]) == (0, "earned", 15)
    assert "already earned" in again["detail"]
    assert available(api, sharer) == 15


def test_the_daily_cap_counts_per_platform_and_resets_the_next_utc_day(
    api: Api, clock: FixedClock
) -> None:
    put_settings(api, points_per_share=10, daily_cap_per_platform=2)
    sharer = member(api)
    pages = [f"{SHOP}?p={n}" for n in range(4)]

    today = [share(api, sharer, "facebook", target_url=p) for p in pages[:3]]
    other_platform = share(api, sharer, "x", target_url=pages[0])
    clock.set(clock().replace(hour=23, minute=59))
    late = share(api, sharer, "facebook", target_url=pages[3])
    clock.set(clock() + timedelta(minutes=2))  # 00:01 the next day
    tomorrow = share(api, sharer, "facebook", target_url=pages[3])

    assert [s["points_earned"] for s in today] == [10, 10, 0]
    assert today[2]["earn_status"] == "daily_cap_reached"
    assert "2 facebook shares already earned points today" in today[2]["detail"]
    assert other_platform["points_earned"] == 10  # platforms are capped independently
    assert late["points_earned"] == 0
    assert (tomorrow["points_earned"], tomorrow["earn_status"]) == (10, "earned")
    assert available(api, sharer) == 40


def test_a_capped_link_can_earn_when_shared_again_another_day(api: Api, clock: FixedClock) -> None:
    put_settings(api, daily_cap_per_platform=1)
    sharer = member(api)
    share(api, sharer, target_url=SHOP + "?a")
    capped = share(api, sharer, target_url=SHOP + "?b")
    clock.set(clock() + DAY)
    later = share(api, sharer, target_url=SHOP + "?b")

    assert capped["points_earned"] == 0
    assert (later["token"], later["points_earned"]) == (capped["token"], 10)
    assert available(api, sharer) == 20


def test_zero_points_per_share_earns_nothing(api: Api) -> None:
    put_settings(api, points_per_share=0)
    sharer = member(api)
    body = share(api, sharer)
    assert (body["points_earned"], body["earn_status"]) == (0, "no_points")
    assert available(api, sharer) == 0


def test_sharing_must_be_active(api: Api) -> None:
    sharer = member(api)
    never_set = share_response(api, sharer)
    put_settings(api, active=False)
    switched_off = share_response(api, sharer)

    for response in (never_set, switched_off):
        assert response.status_code == 409, response.text
        assert error(response)["code"] == "sharing_inactive"


def test_platform_and_target_are_checked(api: Api) -> None:
    put_settings(api, platforms=["facebook", "email"])
    sharer = member(api)

    not_allowed = share_response(api, sharer, "x")
    unknown = share_response(api, sharer, "myspace")
    elsewhere = share_response(api, sharer, target_url="https://evil.example.net/phish")
    lookalike = share_response(api, sharer, target_url="https://shop.example.com.evil.net/")
    subdomain = share_response(api, sharer, target_url="https://eu.shop.example.com/mug")
    not_http = share_response(api, sharer, target_url="javascript:alert(1)")
    extra = share_response(api, sharer, note="hi")

    assert (not_allowed.status_code, error(not_allowed)["code"]) == (422, "platform_not_allowed")
    assert error(not_allowed)["details"]["allowed"] == ["facebook", "email"]
    assert unknown.status_code == 422
    for response in (elsewhere, lookalike):
        assert (response.status_code, error(response)["code"]) == (422, "target_url_not_allowed")
    assert subdomain.status_code == 201, subdomain.text
    assert not_http.status_code == 422
    assert extra.status_code == 422


def test_active_sharing_needs_a_target_url(api: Api) -> None:
    """Without one, a storefront key (visible in the shop's JavaScript) could mint links on
    the merchant's domain to any site."""
    body = {"points_per_share": 10, "target_url": None}
    response = api.client.put("/v1/social/settings", json=body, headers=api.headers())
    assert (response.status_code, error(response)["code"]) == (422, "target_url_required")
    got = api.client.get("/v1/social/settings", headers=api.headers()).json()
    assert got["configured"] is False
    put_settings(api, active=False, target_url=None)  # switched off: no page needed


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example\\@shop.example.com/products/mug",
        "https://evil.example@shop.example.com/products/mug",
        "https://shop.example.com:99999/products/mug",
        "https://shop.example.com%2eevil.example/",
    ],
)
def test_urls_a_browser_may_read_as_another_site_are_refused(api: Api, target: str) -> None:
    put_settings(api)
    sharer = member(api)
    response = share_response(api, sharer, target_url=target)
    assert response.status_code == 422, response.text
    assert links(api, sharer) == []
    settings = {"points_per_share": 10, "target_url": target}
    response = api.client.put("/v1/social/settings", json=settings, headers=api.headers())
    assert response.status_code == 422, response.text


def test_the_shared_page_is_stored_as_rebuilt(api: Api) -> None:
    put_settings(api)
    found = share(api, member(api), target_url="https://EU.Shop.Example.com/products/Mug")
    assert found["target_url"] == "https://eu.shop.example.com/products/Mug"


def test_an_unknown_member_is_404_and_nothing_is_written(api: Api) -> None:
    put_settings(api)
    response = share_response(api, 987_654_321)
    assert (response.status_code, error(response)["code"]) == (404, "member_not_found")


def test_sharing_needs_a_write_scope(api: Api) -> None:
    put_settings(api)
    sharer = member(api)
    response = api.client.post(
        f"/v1/members/{sharer}/shares",
        json={"platform": "facebook"},
        headers=api.headers(Scope.ANALYST),
    )
    assert response.status_code == 403


def test_a_retried_share_with_the_same_idempotency_key_earns_once(api: Api) -> None:
    put_settings(api, daily_cap_per_platform=5)
    sharer = member(api)
    headers = api.headers(Scope.STOREFRONT, **{"Idempotency-Key": "share-1"})
    body = {"platform": "facebook", "target_url": SHOP + "?x"}
    first = api.client.post(f"/v1/members/{sharer}/shares", json=body, headers=headers)
    retry = api.client.post(f"/v1/members/{sharer}/shares", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert available(api, sharer) == 10


def test_a_members_links_are_listed_in_pages(api: Api) -> None:
    put_settings(api, daily_cap_per_platform=10)
    sharer = member(api)
    made = [share(api, sharer, "email", target_url=f"{SHOP}?n={n}")["token"] for n in range(3)]
    path = f"/v1/members/{sharer}/shares"

    first = api.client.get(path, params={"limit": 2}, headers=api.headers(Scope.ANALYST)).json()
    rest = api.client.get(
        path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=api.headers()
    ).json()
    bad = api.client.get(path, params={"cursor": "nonsense"}, headers=api.headers())

    assert [i["token"] for i in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None
    item = first["items"][0]
    assert item["share_urls"]["mailto"].startswith("mailto:?body=http%3A%2F%2Ftestserver%2Fs%2F")
    assert (item["clicks"], item["signups"], item["orders"], item["revenue"]) == (0, 0, 0, "0.00")
    assert (item["points"], item["share_count"], item["earn_status"]) == (10, 1, "earned")
    assert (bad.status_code, error(bad)["code"]) == (422, "invalid_cursor")
