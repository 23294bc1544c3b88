"""Attribution: a click on a share link, a new member enrolling with its token, then that
member's orders: all credited to the sharer, within attribution_days, never to oneself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.models.share import ShareAttribution
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.social.helpers import (
    click,
    enrol,
    links,
    member,
    order_event,
    put_settings,
    query_of,
    refund_event,
    share,
    summary,
    uid,
)

DAY = timedelta(days=1)


def signups(db: Database, program_id: int) -> dict[int, tuple[str, str | None]]:
    """Each sign-up row of the program: member id -> (status, reason)."""
    with db.reader() as session:
        rows = session.execute(
            select(
                ShareAttribution.member_id, ShareAttribution.status, ShareAttribution.reason
            ).where(ShareAttribution.program_id == program_id, ShareAttribution.kind == "signup")
        ).all()
    return {r.member_id: (r.status, r.reason) for r in rows}


def test_click_then_signup_then_order_is_attributed_to_the_sharer(
    api: Api, clock: FixedClock
) -> None:
    put_settings(api, attribution_days=30)
    sharer = member(api)
    link = share(api, sharer, "facebook")
    landing = click(api, link["token"]).headers["location"]
    token = query_of(landing)["pc_share"][0]  # the store keeps it from the landing page

    clock.set(clock() + timedelta(days=3))
    response = enrol(api, share_token=token)
    assert response.status_code == 201, response.text
    friend = response.json()["id"]
    clock.set(clock() + timedelta(days=10))
    first = order_event(api, friend, "80.00", clock())
    order_event(api, friend, "20.50", clock())
    refund_event(api, friend, first, clock(), amount="30.00")
    order_event(api, sharer, "99.00", clock())  # the sharer's own orders are not attributed

    [mine] = links(api, sharer)
    assert (mine["clicks"], mine["signups"], mine["orders"], mine["revenue"]) == (
        1,
        1,
        2,
        "70.50",
    )
    fb = summary(api)["facebook"]
    assert (fb["links"], fb["shares"], fb["points"], fb["clicks"]) == (1, 1, 10, 1)
    assert (fb["signups"], fb["orders"], fb["revenue"]) == (1, 2, "70.50")
    refund_event(api, friend, first, clock())  # cancelled: all of it comes off
    assert links(api, sharer)[0]["revenue"] == "20.50"


def test_orders_sent_in_a_batch_are_attributed_too(api: Api, clock: FixedClock) -> None:
    put_settings(api)
    sharer = member(api)
    token = share(api, sharer)["token"]
    click(api, token)
    friend = member(api, share_token=token)
    events = [
        {
            "id": uid("evt"),
            "type": "order.placed",
            "member": {"external_id": external_id_of_member(api, friend)},
            "occurred_at": clock().isoformat(),
            "data": {"order_id": uid("o"), "currency": "USD", "total": total, "lines": []},
        }
        for total in ("12.00", "8.00")
    ]
    response = api.client.post(
        "/v1/events/batch", json={"events": events}, headers=api.headers(Scope.STOREFRONT)
    )
    assert response.status_code == 200, response.text
    [mine] = links(api, sharer)
    assert (mine["orders"], mine["revenue"]) == (2, "20.00")


def test_an_order_after_the_window_is_not_attributed(api: Api, clock: FixedClock) -> None:
    put_settings(api, attribution_days=7)
    sharer = member(api)
    token = share(api, sharer)["token"]
    click(api, token)
    friend = member(api, share_token=token)
    order_event(api, friend, "10.00", clock() + timedelta(days=6))
    order_event(api, friend, "15.00", clock() + timedelta(days=8))
    order_event(api, friend, "25.00", clock() - timedelta(days=1))  # before the sign-up

    [mine] = links(api, sharer)
    assert (mine["signups"], mine["orders"], mine["revenue"]) == (1, 1, "10.00")


def test_a_signup_outside_attribution_days_of_the_click_is_not_attributed(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_settings(api, attribution_days=5)
    sharer = member(api)
    token = share(api, sharer)["token"]
    click(api, token)
    clock.set(clock() + timedelta(days=5, seconds=1))
    late = member(api, share_token=token)
    order_event(api, late, "40.00", clock())

    assert signups(db, api.program.id) == {late: ("rejected", "click_too_old")}
    [mine] = links(api, sharer)
    assert (mine["signups"], mine["orders"]) == (0, 0)
    assert summary(api)["facebook"]["rejected_signups"] == 1


def test_a_signup_without_any_click_is_not_attributed(api: Api, db: Database) -> None:
    put_settings(api)
    token = share(api, member(api))["token"]
    friend = member(api, share_token=token)
    assert signups(db, api.program.id) == {friend: ("rejected", "no_click")}


def test_a_member_cannot_be_attributed_to_their_own_share(api: Api, db: Database) -> None:
    put_settings(api)
    external_id = uid("cust")
    response = enrol(api, external_id)
    sharer = response.json()["id"]
    token = share(api, sharer)["token"]
    click(api, token)

    again = enrol(api, external_id, share_token=token)  # the sharer "signs up" through it
    existing = member(api)
    old = enrol(api, external_id_of_member(api, existing), share_token=token)
    new = enrol(api, share_token=token)  # a new customer, for contrast

    assert again.status_code == 200
    assert old.status_code == 200
    assert signups(db, api.program.id) == {
        sharer: ("rejected", "self_share"),
        existing: ("rejected", "not_new"),
        new.json()["id"]: ("attributed", None),
    }
    [mine] = links(api, sharer)
    assert mine["signups"] == 1


def external_id_of_member(api: Api, member_id: int) -> str:
    response = api.client.get(f"/v1/members/{member_id}", headers=api.headers())
    external_id: str = response.json()["external_id"]
    return external_id


def test_a_bad_or_foreign_token_never_blocks_the_enrolment(
    api: Api, db: Database, other_api: Api
) -> None:
    put_settings(api)
    put_settings(other_api)
    theirs = share(other_api, member(other_api))["token"]
    click(other_api, theirs)
    for token in ("zzzzzzzzzz", "not a token!", theirs):
        response = enrol(api, share_token=token)
        assert response.status_code == 201, response.text
        assert response.json()["signup"] == {
            "share": {"status": "ignored", "reason": "share_token_unknown"}
        }
    assert signups(db, api.program.id) == {}


def test_the_enrolment_answer_says_what_became_of_the_token(api: Api) -> None:
    put_settings(api)
    sharer = member(api)
    token = share(api, sharer)["token"]
    unclicked = enrol(api, share_token=token).json()["signup"]
    click(api, token)
    external_id = uid("cust")
    first = enrol(api, external_id, share_token=token).json()["signup"]
    retried = enrol(api, external_id, share_token=token).json()["signup"]
    assert unclicked == {"share": {"status": "rejected", "reason": "no_click"}}
    assert first == retried == {"share": {"status": "attributed"}}  # what was recorded
    put_settings(api, active=False)
    off = enrol(api, share_token=token)
    assert off.status_code == 201, off.text
    assert off.json()["signup"] == {"share": {"status": "ignored", "reason": "sharing_inactive"}}


def test_a_second_signup_row_for_a_member_is_never_written(api: Api, db: Database) -> None:
    put_settings(api)
    token_a = share(api, member(api))["token"]
    token_b = share(api, member(api))["token"]
    click(api, token_a)
    click(api, token_b)
    external_id = uid("cust")
    assert enrol(api, external_id, share_token=token_a).status_code == 201
    assert enrol(api, external_id, share_token=token_b).status_code == 200
    rows = signups(db, api.program.id)
    assert list(rows.values()) == [("attributed", None)]


def test_orders_of_members_without_attribution_cost_one_statement(
    api: Api, db: Database, clock: FixedClock
) -> None:
    """The hook runs for every event of every member once sharing is on: constant work."""
    from punchcard.engagement.context import EventSeen
    from punchcard.programs import service as programs
    from punchcard.rules.domain import Facts
    from punchcard.social import hooks

    put_settings(api)
    plain = member(api)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    def seen(event_type: str, data: dict[str, Any]) -> EventSeen:
        facts = Facts(event_type, clock(), "web", None, None)
        return EventSeen(program, plain, uid("e"), event_type, clock(), "web", None, data, facts,
                         0, clock())  # fmt: skip

    with db.writer() as session:
        program = programs.get_program(session, api.program.id)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            hooks.on_event(session, seen("order.placed", {"order_id": "o1"}))
            assert len(statements) == 1
            hooks.on_event(session, seen("order.refunded", {"order_id": "o1", "amount": "1"}))
            assert len(statements) == 2
            hooks.on_event(session, seen("review.submitted", {}))
            assert len(statements) == 2
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            session.rollback()
