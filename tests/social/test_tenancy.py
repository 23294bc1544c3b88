"""A key of program B never sees or changes program A's shares, links or figures."""

from __future__ import annotations

from tests.conftest import Api
from tests.social.helpers import click, error, links, member, put_settings, share, share_response


def test_another_programs_members_shares_and_figures_are_absent(api: Api, other_api: Api) -> None:
    put_settings(api, points_per_share=5)
    sharer = member(api)
    token = share(api, sharer)["token"]
    click(api, token)
    put_settings(other_api)

    shared = share_response(other_api, sharer)
    listed = other_api.client.get(f"/v1/members/{sharer}/shares", headers=other_api.headers())

    assert (shared.status_code, error(shared)["code"]) == (404, "member_not_found")
    assert (listed.status_code, error(listed)["code"]) == (404, "member_not_found")
    summary = other_api.client.get("/v1/social/summary", headers=other_api.headers()).json()
    assert summary == {"platforms": []}
    assert (
        other_api.client.get("/v1/social/settings", headers=other_api.headers()).json()[
            "points_per_share"
        ]
        == 10
    )
    [mine] = links(api, sharer)
    assert (mine["share_count"], mine["clicks"]) == (1, 1)


def test_switching_one_program_off_leaves_the_others_links_working(
    api: Api, other_api: Api
) -> None:
    put_settings(api)
    put_settings(other_api)
    mine = share(api, member(api))["token"]
    theirs = share(other_api, member(other_api))["token"]
    put_settings(other_api, active=False)
    assert click(api, mine).status_code == 302
    assert click(other_api, theirs).status_code == 404
