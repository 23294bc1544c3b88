"""Social sharing's pure rules: tokens, share dialogs, redirects, hosts, bots, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from punchcard.social.domain import (
    TOKEN_ALPHABET,
    EarnStatus,
    Platform,
    Rejection,
    SocialSettings,
    is_bot,
    is_token,
    new_token,
    order_in_window,
    redirect_url,
    safe_url,
    share_outcome,
    share_urls,
    signup_rejection,
    target_allowed,
    visitor_hash,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_tokens_are_short_random_and_unambiguous() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(is_token(t) for t in tokens)
    assert not set("01ilou") & set(TOKEN_ALPHABET)
    assert not is_token("abc")
    assert not is_token("0000000000")
    assert not is_token("ABCDEFGHJK")


def test_redirect_keeps_the_targets_parameters_and_fragment() -> None:
    url = redirect_url(
        "https://s.example.com/p?a=1&a=2&utm_medium=email&pc_share=old#top",
        platform="x",
        campaign="c&d",
        token="k7mq2x9p4d",
    )
    assert url == (
        "https://s.example.com/p?a=1&a=2&utm_source=x&utm_medium=social&utm_campaign=c%26d"
        "&pc_share=k7mq2x9p4d#top"
    )


def test_share_dialogs_carry_the_encoded_link() -> None:
    link = "https://l.example.com/s/k7mq2x9p4d"
    assert share_urls(Platform.X, link) == {
        "web": "https://x.com/intent/post?url=https%3A%2F%2Fl.example.com%2Fs%2Fk7mq2x9p4d"
    }
    assert share_urls(Platform.EMAIL, link)["mailto"].startswith("mailto:?body=https%3A")
    assert share_urls(Platform.INSTAGRAM, link) == share_urls(Platform.COPY, link) == {}


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("https://shop.example.com/a", True),
        ("http://SHOP.example.com:8080/a", True),
        ("https://eu.shop.example.com/a", True),
        ("https://example.com/a", False),
        ("https://shop.example.com.evil.net/a", False),
        ("https://evilshop.example.com/a", False),
    ],
)
def test_targets_stay_on_the_shops_host(target: str, allowed: bool) -> None:
    assert target_allowed(target, "https://shop.example.com/") is allowed
    assert target_allowed(target, None) is False  # no home page: nowhere is allowed


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example\\@shop.example.com/mugs",  # browsers read `\\` as `/`
        "https://evil.example\\shop.example.com/",
        "https://evil.example@shop.example.com/",
        "https://user:pw@shop.example.com/",
        "https://shop.example.com:99999/",
        "https://shop.example.com:/",
        "https://shop%2eexample.com/",
        "https://[::1]/",
        "https:shop.example.com/",
        "https:///shop.example.com/",
        "javascript://shop.example.com/%0aalert(1)",
        "https://shop.example.com/a b",
        "https://shop.example.com/\t",
    ],
)
def test_urls_browsers_may_read_differently_are_refused(target: str) -> None:
    assert safe_url(target) is None
    assert target_allowed(target, "https://shop.example.com/") is False


def test_safe_urls_are_rebuilt_from_their_parts() -> None:
    assert safe_url("HTTPS://Shop.Example.COM:8443/a/@b?q=1#f") == (
        "https://shop.example.com:8443/a/@b?q=1#f"
    )
    assert safe_url("https://shop.example.com//other.example/") == (
        "https://shop.example.com//other.example/"  # a path on the shop, not another host
    )


def test_link_previewers_and_scripts_are_not_clicks() -> None:
    previewers = (
        "facebookexternalhit/1.1",
        "Twitterbot/1.0",
        "WhatsApp/2.23.20.0",
        "LinkedInBot/1.0",
        "Slackbot-LinkExpanding 1.0",
        "curl/8.0",
        None,
        "",
    )
    for agent in previewers:
        assert is_bot(agent), agent
    for agent in (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36 [FBAN/FB4A;]",
    ):
        assert not is_bot(agent), agent


def test_visitor_hashes_change_with_the_salt() -> None:
    one = visitor_hash("salt-a", "1.2.3.4", "ua")
    assert one == visitor_hash("salt-a", "1.2.3.4", "ua")
    assert one != visitor_hash("salt-b", "1.2.3.4", "ua")
    assert "1.2.3.4" not in one


def test_share_outcome() -> None:
    settings = SocialSettings(points_per_share=5, daily_cap_per_platform=2)
    assert share_outcome(settings, 1) is EarnStatus.EARNED
    assert share_outcome(settings, 2) is EarnStatus.DAILY_CAP_REACHED
    assert share_outcome(SocialSettings(points_per_share=0), 0) is EarnStatus.NO_POINTS


def test_signup_rejections() -> None:
    def verdict(**changes: object) -> Rejection | None:
        args: dict[str, object] = {"sharer_id": 1, "member_id": 2, "created": True,
                                   "last_click": NOW - timedelta(days=3), "now": NOW,
                                   "attribution_days": 3} | changes  # fmt: skip
        return signup_rejection(**args)  # type: ignore[arg-type]

    assert verdict() is None
    assert verdict(member_id=1, created=False) is Rejection.SELF_SHARE
    assert verdict(created=False) is Rejection.NOT_NEW
    assert verdict(last_click=None) is Rejection.NO_CLICK
    assert verdict(last_click=NOW - timedelta(days=3, seconds=1)) is Rejection.CLICK_TOO_OLD


def test_orders_count_within_the_window_after_the_signup() -> None:
    assert order_in_window(NOW, NOW, 1)
    assert order_in_window(NOW, NOW + timedelta(days=1), 1)
    assert not order_in_window(NOW, NOW + timedelta(days=1, seconds=1), 1)
    assert not order_in_window(NOW, NOW - timedelta(seconds=1), 1)
