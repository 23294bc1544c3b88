"""Racing first clicks and racing shares of one link still earn its points once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from punchcard.social import service
from tests.conftest import Api
from tests.social.helpers import BROWSER, available, links, member, put_settings, share

THREADS = 6


def test_racing_first_clicks_award_once(api: Api, db: Database, clock: FixedClock) -> None:
    put_settings(api, earn_on="click", points_per_share=9)
    sharer = member(api)
    token = share(api, sharer)["token"]

    def one_click(n: int) -> str | None:
        with db.writer() as session:
            url = service.click(
                session, token=token, address=f"10.0.0.{n}", user_agent=BROWSER, now=clock()
            )
            session.commit()
            return url

    with ThreadPoolExecutor(THREADS) as pool:
        urls = list(pool.map(one_click, range(THREADS)))

    assert all(url is not None for url in urls)
    assert available(api, sharer) == 9
    [link] = links(api, sharer)
    assert (link["clicks"], link["unique_clicks"], link["points"]) == (THREADS, THREADS, 9)


def test_racing_shares_of_one_link_award_once(api: Api) -> None:
    put_settings(api, points_per_share=4, daily_cap_per_platform=50)
    sharer = member(api)

    def one_share(_: int) -> int:
        response = api.client.post(
            f"/v1/members/{sharer}/shares",
            json={"platform": "x"},
            headers=api.headers(Scope.STOREFRONT),
        )
        assert response.status_code in (200, 201), response.text
        earned: int = response.json()["points_earned"]
        return earned

    with ThreadPoolExecutor(THREADS) as pool:
        earned = list(pool.map(one_share, range(THREADS)))

    assert sorted(earned) == [0] * (THREADS - 1) + [4]
    assert available(api, sharer) == 4
    [link] = links(api, sharer)
    assert link["share_count"] == THREADS
