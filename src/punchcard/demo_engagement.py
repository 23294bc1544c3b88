"""The demo's game and advocacy features, set up through the REST API exactly as a merchant's
developer would (the curl examples in docs/ send the same bodies): a challenge, badges, a
streak, two leaderboards, referrals and social sharing; then the sample member plays a little
so that every member view has something to show.

Driven in process (FastAPI's test client on the demo's own database), so nothing listens on a
port while the demo is being built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from punchcard.app import create_app
from punchcard.badges import tasks as badge_tasks
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.leaderboards import service as leaderboards
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope

SHOP = "https://shop.example.com"
BOARDS = (("Top fans of all time", "all_time"), ("Fans of the month", "month"))


@dataclass(frozen=True)
class Played:
    """What the demo's summary points at."""

    challenge_id: int
    leaderboard_id: int
    share_token: str | None
    referral_code: str | None
    friend_id: int | None


def _call(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    response = client.request(method, path, json=body)
    if response.status_code >= 400:
        raise RuntimeError(f"demo set-up: {method} {path}: {response.text}")
    return response.json()


def set_up(db: Database, settings: Settings, program_id: int, sample: int, now: datetime) -> Played:
    with session_scope(db.writer) as session:
        key = programs.create_api_key(
            session, program_id=program_id, scopes=(Scope.ADMIN,), now=now, name="demo set-up"
        )
    app = create_app(settings, db=db, clock=lambda: now)
    with TestClient(app, headers={"Authorization": f"Bearer {key.api_key}"}) as client:
        challenge = _configure(client, now)
        boards = [
            _call(client, "POST", "/v1/leaderboards", {"name": name, "period": period})
            for name, period in (
                ("Top fans of all time", "all_time"),
                ("Fans of the month", "month"),
            )
        ]
        _name_top_fans(db, program_id, boards[0]["id"], now)
        badge_tasks.run(db, now=now, batch_size=settings.jobs_batch_size)
        return _play(client, sample, challenge["id"], boards[0]["id"], now)


def _configure(client: TestClient, now: datetime) -> Any:
    challenge = _call(
        client,
        "POST",
        "/v1/challenges",
        {
            "name": "Three orders this month",
            "description": "Order three times before the month is out: 300 stars.",
            "steps": [{"events": ["order.placed"], "target": 3, "label": "orders"}],
            "window": {
                "type": "fixed",
                "starts_at": (now - timedelta(days=1)).isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(),
            },
            "reward": {"points": 300},
        },
    )
    for badge in (
        {"name": "First spin", "criteria": {"kind": "order_count", "count": 1}},
        {"name": "Crate digger", "criteria": {"kind": "order_count", "count": 10}, "points": 100},
        {"name": "One year with us", "criteria": {"kind": "member_years", "years": 1}},
        {"name": "Audiophile", "criteria": {"kind": "tier_reached", "tier": "Audiophile"}},
        {"name": "Critic", "criteria": {"kind": "event_count", "event_type": "review.submitted",
                                        "count": 1}},
        {"name": "Green groove", "criteria": {"kind": "event_count",
                                              "event_type": "recycling.dropped_off", "count": 1}},
    ):  # fmt: skip
        _call(client, "POST", "/v1/badges", badge)
    _call(
        client,
        "POST",
        "/v1/streaks",
        {
            "name": "Weekly listener",
            "period": "week",
            "events": ["order.placed"],
            "bonuses": [{"length": 2, "points": 50}, {"length": 4, "points": 200}],
        },
    )
    _call(
        client,
        "PUT",
        "/v1/referrals/settings",
        {
            "active": True,
            "referrer_points": 500,
            "referee_points": 250,
            "min_order_total": "20.00",
            "link_template": SHOP + "/?ref={code}",
            "max_referrals_per_week": 10,
        },
    )
    _call(
        client,
        "PUT",
        "/v1/social/settings",
        {"active": True, "points_per_share": 25, "earn_on": "click", "target_url": SHOP + "/"},
    )
    return challenge


def _name_top_fans(db: Database, program_id: int, board_id: int, now: datetime) -> None:
    """The all-time board was scored from the history when it was made; its ten best
    members opt in under made-up names, so the list has people on it."""
    with session_scope(db.writer) as session:
        top = session.execute(
            text(
                "SELECT member_id FROM leaderboard_scores WHERE leaderboard_id = :b "
                "ORDER BY score DESC, member_id LIMIT 10"
            ),
            {"b": board_id},
        ).scalars()
        for n, member_id in enumerate(list(top), start=1):
            leaderboards.put_profile(
                session,
                program_id=program_id,
                member_id=int(member_id),
                display_name=f"Crate Digger {n:02d}",
                opted_in=True,
                now=now,
            )


def _play(
    client: TestClient, sample: int, challenge_id: int, board_id: int, now: datetime
) -> Played:
    member = _call(client, "GET", f"/v1/members/{sample}")
    _call(
        client,
        "PUT",
        f"/v1/members/{sample}/leaderboard-profile",
        {"display_name": "VinylVera", "opted_in": True},
    )
    for n in (1, 2):  # two of the challenge's three orders, this week
        _call(
            client,
            "POST",
            "/v1/events",
            {
                "id": f"demo-now-{n}",
                "type": "order.placed",
                "occurred_at": (now - timedelta(hours=3 - n)).isoformat(),
                "member": {"external_id": member["external_id"]},
                "channel": "web",
                "data": {
                    "order_id": f"demo-now-{n}",
                    "currency": "USD",
                    "total": "24.00",
                    "lines": [{"sku": "cd-now", "quantity": 2, "unit_price": "12.00"}],
                },
            },
        )
    code = _call(client, "GET", f"/v1/members/{sample}/referral")["code"]
    friend = _call(
        client,
        "POST",
        "/v1/members",
        {"external_id": "demo-friend", "email": "friend@example.com", "referral_code": code},
    )
    share = _call(client, "POST", f"/v1/members/{sample}/shares", {"platform": "whatsapp"})
    return Played(challenge_id, board_id, share.get("token"), code, friend.get("id"))
