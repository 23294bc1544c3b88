"""GET /s/{token}: public, records the click (no address or user agent stored), redirects with
UTM parameters; with earn_on "click", the first click of a share gives its points, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.models.share import ShareClick, ShareLink
from tests.conftest import Api
from tests.social.helpers import (
    BROWSER,
    SHOP,
    available,
    click,
    links,
    member,
    put_settings,
    query_of,
    share,
)

DAY = timedelta(days=1)


def test_a_click_redirects_with_utm_parameters_and_keeps_the_targets_own(api: Api) -> None:
    put_settings(api, utm_campaign="spring sale")
    sharer = member(api)
    target = "https://shop.example.com/mug?color=blue&utm_source=newsletter&size=#reviews"
    token = share(api, sharer, "whatsapp", target_url=target)["token"]

    response = api.client.get(
        f"/s/{token}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )

    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("https://shop.example.com/mug?")
    assert location.endswith("#reviews")
    assert query_of(location) == {
        "color": ["blue"],
        "size": [""],
        "utm_source": ["whatsapp"],  # ours replaces the target's own utm_source
        "utm_medium": ["social"],
        "utm_campaign": ["spring sale"],
        "pc_share": [token],
    }


def test_an_unknown_or_malformed_token_is_a_plain_404(api: Api) -> None:
    put_settings(api)
    for token in ("zzzzzzzzzz", "nope", "a" * 200, "abc%00def"):
        response = api.client.get(f"/s/{token}", follow_redirects=False)
        assert response.status_code == 404, token
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
        assert "link" in response.text


def test_a_stored_link_is_checked_again_at_the_click(api: Api, db: Database) -> None:
    """A link stored before a fix, or whose page is no longer on the program's site, must not
    redirect off-site: 404, and no click is recorded."""
    put_settings(api)
    sharer = member(api)
    stale = share(api, sharer)["token"]
    moved = share(api, sharer, "x")["token"]
    with db.writer() as session:
        session.execute(
            update(ShareLink)
            .where(ShareLink.token == stale)
            .values(target_url="https://evil.example\\@shop.example.com/mugs")
        )
        session.commit()
    assert click(api, stale).status_code == 404
    assert click(api, moved).status_code == 302
    put_settings(api, target_url="https://new-shop.example.net/")
    assert click(api, moved).status_code == 404
    assert [item["clicks"] for item in links(api, sharer)] == [0, 1]


def test_the_redirect_goes_where_the_parser_says(api: Api) -> None:
    put_settings(api)
    token = share(api, member(api), target_url="https://Shop.Example.com//evil.example/x")["token"]
    location = click(api, token).headers["location"]
    assert location.startswith("https://shop.example.com//evil.example/x?")


def test_links_of_an_inactive_program_are_404(api: Api) -> None:
    put_settings(api)
    token = share(api, member(api))["token"]
    put_settings(api, active=False)
    assert click(api, token).status_code == 404
    put_settings(api)
    assert click(api, token).status_code == 302


def test_clicks_are_counted_with_unique_visitors_and_no_raw_data(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_settings(api)
    sharer = member(api)
    token = share(api, sharer)["token"]

    click(api, token)
    click(api, token)
    click(api, token.upper())  # tokens are read in any case
    click(api, token, user_agent=BROWSER + " other")
    click(api, token, user_agent="facebookexternalhit/1.1")  # a link preview: not a click
    click(api, token, user_agent="Twitterbot/1.0")
    clock.set(clock() + DAY)
    click(api, token)  # the same visitor the next day: unique per day

    [link] = links(api, sharer)
    assert (link["clicks"], link["unique_clicks"]) == (5, 3)
    with db.reader() as session:
        stored = session.execute(select(ShareClick.visitor_hash)).scalars().all()
    assert stored
    assert all(len(h) == 64 for h in stored)
    assert not any("testclient" in h or "Mozilla" in h for h in stored)


def test_earn_on_click_gives_points_at_the_first_click_only(api: Api) -> None:
    put_settings(api, earn_on="click", points_per_share=25)
    sharer = member(api)
    shared = share(api, sharer)
    unclicked = share(api, sharer, "x")

    assert (shared["points_earned"], shared["earn_status"]) == (0, "awaiting_click")
    assert "first clicked" in shared["detail"]
    assert available(api, sharer) == 0
    click(api, shared["token"], user_agent="facebookexternalhit/1.1")  # previews do not count
    assert available(api, sharer) == 0

    click(api, shared["token"])
    assert available(api, sharer) == 25
    click(api, shared["token"], user_agent=BROWSER + " someone else")
    again = share(api, sharer)  # sharing an earned link again gives nothing either
    click(api, shared["token"])

    assert available(api, sharer) == 25
    assert again["points_earned"] == 0
    by_platform = {link["platform"]: link for link in links(api, sharer)}
    assert (by_platform["facebook"]["earn_status"], by_platform["facebook"]["points"]) == (
        "earned",
        25,
    )
    assert (by_platform["x"]["earn_status"], by_platform["x"]["points"]) == ("awaiting_click", 0)
    assert unclicked["points_earned"] == 0


def test_earn_on_click_counts_against_the_cap_of_the_day_of_the_share(
    api: Api, clock: FixedClock
) -> None:
    put_settings(api, earn_on="click", daily_cap_per_platform=1)
    sharer = member(api)
    first = share(api, sharer, target_url=SHOP + "?a")
    second = share(api, sharer, target_url=SHOP + "?b")
    clock.set(clock() + DAY)
    third = share(api, sharer, target_url=SHOP + "?c")

    click(api, second["token"])  # earns under the cap of the first day
    click(api, first["token"])  # that day's cap is now full
    click(api, first["token"])  # only the first click of a share decides
    click(api, third["token"])  # its own day has room

    assert available(api, sharer) == 20
    status = {link["token"]: link["earn_status"] for link in links(api, sharer)}
    assert status == {
        first["token"]: "daily_cap_reached",
        second["token"]: "earned",
        third["token"]: "earned",
    }
