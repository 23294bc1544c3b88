"""What the portal tests share: an app with a known secret, a member with something on every
page, and signing in the way a member does (the code read from the outbox)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.models import Program
from punchcard.models.web import OutboxMessage
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from punchcard.redemptions import service as redemptions
from tests.conftest import Api
from tests.redemptions.helpers import make_cause, make_reward

SECRET = "portal-tests-secret-key-0123456789"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")
POINTS_NAMES = {"ka": "ქულა", "gu": "પોઈન્ટ", "fi": "pistettä", "hu": "pont"}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_program(db: Database, clock: FixedClock, **fields: Any) -> ProgramSettings:
    values: dict[str, Any] = {
        "points_name": "points",
        "currency": "EUR",
        "expiry_policy": ExpiryPolicy.DAYS_AFTER_EARN,
        "expiry_value": 60,
        "pending_days": 14,
        **fields,
    }
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name=uid("Shop"), now=clock(), **values)
        session.execute(
            update(Program)
            .where(Program.id == program.id)
            .values(points_names=json.dumps(POINTS_NAMES))
        )
    return program


def enrol(
    db: Database, program: ProgramSettings, clock: FixedClock, *, email: str | None = None,
    name: str | None = "Nino", locale: str | None = None,
) -> int:  # fmt: skip
    with session_scope(db.writer) as session:
        member, _ = members.enrol(
            session, program_id=program.id, external_id=uid("cust"), now=clock(),
            email=email, name=name,
        )  # fmt: skip
        if locale is not None:
            members.set_preferences(
                session, program_id=program.id, member_id=member.id, now=clock(), locale=locale
            )
    return member.id


def card_number(db: Database, program: ProgramSettings, member_id: int) -> str:
    with db.reader() as session:
        return members.get(session, program_id=program.id, member_id=member_id).card_number


def give(
    db: Database, program: ProgramSettings, clock: FixedClock, member_id: int, points: int,
    *, pending: bool = False, order_id: str | None = None,
) -> int:  # fmt: skip
    with session_scope(db.writer) as session:
        return ledger.credit(
            session, program=program, member_id=member_id, points=points,
            reason="order placed" if order_id else "welcome", now=clock(),
            reference=order_id, pending_days=program.pending_days if pending else 0,
            meta={"order_id": order_id, "rule_version": 3} if order_id else None,
        )  # fmt: skip


def redeem(db: Database, program: ProgramSettings, clock: FixedClock, member_id: int,
           reward_id: int) -> int:  # fmt: skip
    with session_scope(db.writer) as session:
        issued = redemptions.redeem(
            session, program=program, member_id=member_id, reward_id=reward_id, now=clock()
        )
    return issued.redemption.id


def latest_code(db: Database, recipient: str) -> str:
    """The code in the newest e-mail to `recipient`, as the member reads it."""
    with db.reader() as session:
        body = session.execute(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).scalar_one()
    found = CODE.search(body)
    assert found is not None, body
    return found.group(1)


def outbox_count(db: Database, recipient: str) -> int:
    with db.reader() as session:
        return len(
            session.execute(
                select(OutboxMessage.id).where(OutboxMessage.recipient == recipient)
            ).all()
        )


def ask_code(client: TestClient, program: ProgramSettings, identifier: str) -> Any:
    page = client.get(f"/portal/sign-in?program={program.id}")
    assert page.status_code == 200, page.text
    return client.post(
        "/portal/sign-in",
        data={
            "csrf_token": csrf_of(page.text),
            "program": str(program.id),
            "identifier": identifier,
        },
        follow_redirects=False,
    )


def enter_code(client: TestClient, code: str) -> Any:
    page = client.get("/portal/sign-in/code")
    assert page.status_code == 200, page.text
    return client.post(
        "/portal/sign-in/code",
        data={"csrf_token": csrf_of(page.text), "code": code},
        follow_redirects=False,
    )


def sign_in(client: TestClient, db: Database, program: ProgramSettings, email: str) -> None:
    asked = ask_code(client, program, email)
    assert asked.status_code == 303, asked.text
    entered = enter_code(client, latest_code(db, email))
    assert entered.status_code == 303, entered.text
    assert entered.headers["location"] == "/portal/"


def post_form(client: TestClient, path: str, data: dict[str, str], page: str = "/portal/") -> Any:
    """A form post the way the browser sends it: the token from a page of the session."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


@dataclass
class Rich:
    """A member with something on every page."""

    program: ProgramSettings
    member_id: int
    email: str
    earn_tx: int
    reward_id: int
    redemption_id: int


def rich_member(db: Database, clock: FixedClock, api: Api) -> Rich:
    program = api.program
    headers = api.headers()
    put = api.client.put(
        "/v1/tiers",
        json={
            "metric": "points",
            "window": "lifetime",
            "tiers": [
                {"name": "Bronze", "threshold": 0},
                {"name": "Silver", "threshold": 5000, "perks": ["free delivery"]},
            ],
        },
        headers=headers,
    )
    assert put.status_code == 200, put.text
    email = f"{uid('m')}@example.com"
    member_id = enrol(db, program, clock, email=email)
    earn_tx = give(db, program, clock, member_id, 3000, order_id="A-1001")
    give(db, program, clock, member_id, 250, pending=True, order_id="A-1002")
    reward_id = make_reward(db, program, points_cost=500, code_valid_days=30)
    make_reward(db, program, name="Weekend away", points_cost=900_000)
    make_reward(db, program, name="Gold gift", points_cost=10, tiers=["Silver"])
    make_reward(db, program, name="Sold out mug", points_cost=10, stock=0)
    make_reward(db, program, name="Next year", points_cost=10,
                valid_from=clock() + timedelta(days=30))  # fmt: skip
    cause = make_cause(db, program, points_per_unit=100)
    donation = make_reward(db, program, type="donation", points_cost=200, cause_id=cause,
                           value=None)  # fmt: skip
    redemption_id = redeem(db, program, clock, member_id, reward_id)
    redeem(db, program, clock, member_id, donation)
    for path, body in (
        ("/v1/challenges", {"name": "Three orders", "reward": {"points": 100},
                            "steps": [{"events": ["order.placed"], "target": 3,
                                       "label": "orders"}]}),
        ("/v1/badges", {"name": "First order", "criteria": {"kind": "order_count", "count": 1}}),
        ("/v1/streaks", {"name": "Daily visit", "period": "day", "events": ["order.placed"]}),
        ("/v1/leaderboards", {"name": "Top", "period": "all_time"}),
    ):  # fmt: skip
        made = api.client.post(path, json=body, headers=headers)
        assert made.status_code == 201, made.text
    settings = api.client.put(
        "/v1/referrals/settings",
        json={"active": True, "referrer_points": 500, "referee_points": 300,
              "min_order_total": "25.00", "link_template": "https://shop.example/?ref={code}"},
        headers=headers,
    )  # fmt: skip
    assert settings.status_code == 200, settings.text
    profile = api.client.put(
        f"/v1/members/{member_id}/leaderboard-profile",
        json={"display_name": "Nino K", "opted_in": True},
        headers=headers,
    )
    assert profile.status_code == 200, profile.text
    return Rich(program, member_id, email, earn_tx, reward_id, redemption_id)
