"""The earn fast paths (the express lane on PostgreSQL, the careful fast path on both
databases, batches and imports) write exactly what the general one-by-one path writes, fall
back to it when they must, and keep the ledger clean."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from punchcard import rawsql
from punchcard.db import Database, session_scope
from punchcard.events import batchwrite, fastpath, service
from punchcard.events.express import IdBlocks
from punchcard.events.schemas import EventResult
from punchcard.kit.clock import FixedClock
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.members.domain import Channel
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from punchcard.rules import service as rules
from tests.conftest import START, Api, ProgramFactory
from tests.events.test_events_api import (
    balance,
    event,
    line,
    member_id_of,
    order_data,
    post_event,
    send,
    uid,
)

HOUR = timedelta(hours=1)
BASE = {
    "id": "base",
    "name": "1 point per dollar",
    "events": ["order.placed"],
    "effect": {"type": "per_currency_unit", "points": 1},
}
CDS = {
    "id": "cds",
    "name": "2 points a CD",
    "events": ["order.placed"],
    "effect": {"type": "per_line", "points": 2, "categories": ["cd"]},
}
REVIEW = {
    "id": "review",
    "name": "Review bonus",
    "events": ["review.submitted"],
    "effect": {"type": "fixed", "points": 20},
}
WELCOME = {
    "id": "welcome",
    "name": "First order bonus",
    "events": ["order.placed"],
    "conditions": {"first_order": True},
    "effect": {"type": "fixed", "points": 50},
}
RULE_SETS = {"event_only": [BASE, CDS, REVIEW], "first_order": [BASE, REVIEW, WELCOME]}


def _history() -> list[dict[str, Any]]:
    """Orders of new and returning customers, and actions, in time order."""
    bodies = []
    for n in range(12):
        customer = f"c{n % 4}"
        at = START + n * HOUR
        data = order_data(
            line("sku-a", 1 + n % 3, "12.50", "cd"), line("sku-b", 1, "7.25"), order_id=f"o{n}"
        )
        bodies.append(event("order.placed", data, customer=customer, at=at, event_id=f"e{n}"))
        if n % 5 == 0:
            bodies.append(
                event(
                    "review.submitted",
                    {"sku": f"p{n}", "rating": 5},
                    customer=customer,
                    at=at + timedelta(minutes=5),
                    event_id=f"r{n}",
                )
            )
    return bodies


def _inputs(bodies: list[dict[str, Any]]) -> list[service.EventInput]:
    from punchcard.events.endpoints import _input
    from punchcard.events.schemas import EventIn

    return [_input(EventIn.model_validate(b)) for b in bodies]


def _state(db: Database, program_id: int) -> dict[str, Any]:
    """Everything the events wrote, with database ids replaced by what they stand for."""
    queries = {
        "balances": "SELECT m.external_id, b.available, b.pending, b.debt, b.lifetime_earned "
        "FROM balances b JOIN members m ON m.id = b.member_id WHERE b.program_id = :p",
        "transactions": "SELECT m.external_id, t.kind, t.points, t.reason, t.reference, "
        "t.occurred_at FROM ledger_transactions t JOIN members m ON m.id = t.member_id "
        "WHERE t.program_id = :p",
        "postings": "SELECT m.external_id, p.account, sum(p.amount) FROM postings p "
        "JOIN members m ON m.id = p.member_id WHERE p.program_id = :p GROUP BY 1, 2",
        "lots": "SELECT m.external_id, l.points, l.remaining, l.earned_at, l.expires_at "
        "FROM lots l JOIN members m ON m.id = l.member_id WHERE l.program_id = :p",
        "pending": "SELECT m.external_id, c.points, c.remaining, c.release_at, c.status "
        "FROM pending_credits c JOIN members m ON m.id = c.member_id WHERE c.program_id = :p",
        "orders": "SELECT o.order_id, m.external_id, o.total, o.lines, o.status, o.placed_at "
        "FROM orders o JOIN members m ON m.id = o.member_id WHERE o.program_id = :p",
        "awards": "SELECT e.source_id, a.rule_id, a.effect, a.points, a.lines "
        "FROM awards a JOIN events e ON e.id = a.event_id WHERE a.program_id = :p",
        # Tier events are named after their history row's id: compare them by content.
        "events": "SELECT CASE WHEN e.type LIKE 'tier.%' THEN e.data ELSE e.source_id END, "
        "e.type, m.external_id, e.occurred_at, e.transaction_id IS NULL FROM events e "
        "JOIN members m ON m.id = e.member_id WHERE e.program_id = :p",
        "member_tiers": "SELECT m.external_id, t.tier, t.since, t.valid_until, t.granted "
        "FROM member_tiers t JOIN members m ON m.id = t.member_id WHERE t.program_id = :p",
        "tier_changes": "SELECT m.external_id, c.change, c.from_tier, c.to_tier, c.metric_value, "
        "c.valid_until, c.reason, c.occurred_at FROM tier_changes c "
        "JOIN members m ON m.id = c.member_id WHERE c.program_id = :p",
    }
    with db.reader() as session:
        return {
            name: sorted(
                tuple(_plain(v) for v in row)
                for row in session.execute(text(sql), {"p": program_id})
            )
            for name, sql in queries.items()
        }


def _plain(value: Any) -> str:
    """Stored JSON compared by content: the paths format it differently."""
    text_value = str(value)
    if text_value[:1] in "[{":
        return json.dumps(json.loads(text_value), sort_keys=True)
    return text_value


def _results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results without the ids that differ from one program to another."""
    return [
        EventResult.model_validate(r).model_dump(exclude={"member_id", "transaction_id"})
        for r in results
    ]


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
@pytest.mark.parametrize("pending_days", [0, 14])
@pytest.mark.parametrize("plan_first", [False, True], ids=["locked", "planned_first"])
@pytest.mark.parametrize("copy", [False, True], ids=["pipeline", "copy"])
def test_every_path_writes_what_the_general_path_writes(
    api: Api,
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    pending_days: int,
    rule_set: str,
    plan_first: bool,
    copy: bool,
) -> None:
    """`planned_first`: the batch is planned before its members are locked (PostgreSQL; on
    SQLite the same as `locked`). `copy`: the batch's rows go out by (binary) COPY, as a
    batch of 64 events or more does on PostgreSQL, rather than in one pipeline (on SQLite the
    same as `pipeline`)."""
    monkeypatch.setattr(fastpath, "OPTIMISTIC_FROM", 1 if plan_first else 10_000)
    if copy:
        monkeypatch.setattr(batchwrite, "COPY_THRESHOLD", 1)
        monkeypatch.setattr(rawsql, "COPY_THRESHOLD", 1)
    bodies = _history()
    body = {"rules": RULE_SETS[rule_set]}
    assert api.client.put("/v1/rules", json=body, headers=api.headers()).status_code == 200
    # The API: the express lane on PostgreSQL (and the careful path where it must), the
    # careful fast path on SQLite. The program is patched to the variant under test.
    patched = api.client.patch(
        "/v1/program",
        json={"pending_days": pending_days, "expiry_policy": "days_after_earn", "expiry_value": 90},
        headers=api.headers(),
    )
    assert patched.status_code == 200, patched.text
    by_api = [send(api, body) for body in bodies]
    settings: dict[str, Any] = {
        "pending_days": pending_days,
        "expiry_policy": ExpiryPolicy.DAYS_AFTER_EARN,
        "expiry_value": 90,
    }
    general, batched = make_program(**settings), make_program(**settings)
    with session_scope(db.writer) as session:
        for other in (general, batched):
            rules.replace(session, program_id=other.id, body=body, now=clock())
    with session_scope(db.writer) as session:
        one_by_one = [
            service.ingest(session, program=general, event=e, now=clock()) for e in _inputs(bodies)
        ]
    with session_scope(db.writer) as session:
        current = rules.in_force(session, batched.id)
        in_batch = fastpath.ingest_many(
            session, program=batched, rules=current, events=_inputs(bodies), now=clock()
        )
    assert all(isinstance(r, dict) for r in in_batch), in_batch
    expected = _state(db, general.id)
    assert _state(db, api.program.id) == expected
    assert _state(db, batched.id) == expected
    assert _results(by_api) == _results(one_by_one) == _results(in_batch)  # type: ignore[arg-type]
    with db.reader() as session:
        assert verify(session).ok


def test_a_replay_or_a_reused_order_id_changes_nothing(api: Api) -> None:
    customer = "regular"
    send(api, event("order.placed", order_data(line("a", 1, "10.00")), customer=customer))
    body = event("order.placed", order_data(line("a", 2, "10.00")), customer=customer)
    first = send(api, body)  # the member is known to this process now: the express lane
    assert send(api, body) == first
    again = dict(body, id="another-event-id")
    refused = post_event(api, again)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "order_exists"
    balance = api.client.get(f"/v1/members/{first['member_id']}/balance", headers=api.headers())
    assert balance.json()["available"] == 30


def test_new_points_pay_a_debt_first_whichever_lane(api: Api) -> None:
    placed = send(api, event("order.placed", order_data(line("a", 1, "40.00")), customer="d"))
    member = placed["member_id"]
    spent = api.client.post(
        f"/v1/members/{member}/spend", json={"points": 40, "reason": "gift"}, headers=api.headers()
    )
    assert spent.status_code in (200, 201), spent.text
    refund = event("order.cancelled", {"order_id": placed["order_id"]}, customer="d")
    send(api, refund)
    assert _balance(api, member)["debt"] == 40
    send(api, event("order.placed", order_data(line("a", 1, "25.00")), customer="d"))
    after = _balance(api, member)
    assert (after["debt"], after["available"]) == (15, 0)
    api.client.put("/v1/rules", json={"rules": [BASE, REVIEW]}, headers=api.headers())
    send(api, event("review.submitted", {"sku": "p", "rating": 4}, customer="d"))
    after = _balance(api, member)
    assert (after["debt"], after["available"]) == (0, 5)


def _balance(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_member_enrolled_elsewhere_is_found_not_enrolled_twice(
    api: Api, db: Database, clock: FixedClock
) -> None:
    """Another process (here: the service directly) enrolled the customer, so this process's
    member cache does not know them: the event must land on that member."""
    with session_scope(db.writer) as session:
        member, _ = members.enrol(
            session,
            program_id=api.program.id,
            external_id="known-elsewhere",
            channel=Channel.POS,
            now=clock(),
        )
    result = send(
        api, event("order.placed", order_data(line("a", 1, "9.99")), customer="known-elsewhere")
    )
    assert result["member_id"] == member.id
    with db.reader() as session:
        count = session.execute(
            text("SELECT count(*) FROM members WHERE program_id = :p AND external_id = :e"),
            {"p": api.program.id, "e": "known-elsewhere"},
        ).scalar_one()
    assert count == 1


def test_id_blocks_of_two_processes_never_overlap(db: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the express lane and its id blocks are PostgreSQL's")
    one, two = IdBlocks(db), IdBlocks(db)
    drawn = [one.take("events") for _ in range(250)] + [two.take("events") for _ in range(250)]
    assert len(set(drawn)) == 500


def test_lookups_use_the_unique_keys_on_tables_without_statistics(
    fresh_db: Database, backend: str
) -> None:
    """A regression guard: on a new database the planner once chose a member index for these
    lookups and read every row of the program for each event."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner")
    lookups = {
        "uq_events_source_id_program_id": "SELECT 1 FROM events WHERE program_id = 1 "
        "AND source_id = 'x'",
        "pk_orders": "SELECT 1 FROM orders WHERE program_id = 1 AND order_id = 'x'",
        "uq_members_external_id_program_id": "SELECT id FROM members WHERE program_id = 1 "
        "AND external_id = 'x'",
    }
    with fresh_db.reader() as session:
        for index, sql in lookups.items():
            plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql)))
            assert index in plan, plan


def test_fast_path_is_refused_where_usage_must_be_counted(
    api: Api, program: ProgramSettings
) -> None:
    capped = {
        "rules": [
            {
                "id": "base",
                "name": "1 point per unit, at most 50 a day",
                "events": ["order.placed"],
                "effect": {"type": "per_currency_unit", "points": 1},
                "caps": {"day": 50},
            }
        ]
    }
    put = api.client.put("/v1/rules", json=capped, headers=api.headers())
    assert put.status_code == 200, put.text
    first = send(api, event("order.placed", order_data(line("a", 1, "40.00")), customer="cap"))
    second = send(api, event("order.placed", order_data(line("a", 1, "40.00")), customer="cap"))
    assert (first["points"]["awarded"], second["points"]["awarded"]) == (40, 10)


TIERS = {
    "window": "rolling_12_months",
    "tiers": [
        {"name": "Member", "threshold": 0},
        {"name": "Silver", "threshold": 20, "multiplier": "1.5"},
        {"name": "Black", "threshold": 40, "multiplier": "3", "invitation_only": True},
        {"name": "Gold", "threshold": 50, "multiplier": "2"},
    ],
}


@pytest.mark.parametrize("metric", ["spend", "points"])
def test_every_path_decides_the_same_tiers(
    api: Api, db: Database, make_program: ProgramFactory, clock: FixedClock, metric: str
) -> None:
    """Members cross thresholds in the middle of the history (and of the batch): upgrades,
    renewals, multipliers and tier events are the same one by one, one request at a time,
    and in one batch."""
    from punchcard.tiers import service as tiers
    from punchcard.tiers.schemas import PolicyIn

    bodies = _history()
    policy = {**TIERS, "metric": metric}
    body = {"rules": RULE_SETS["first_order"]}
    assert api.client.put("/v1/rules", json=body, headers=api.headers()).status_code == 200
    assert api.client.put("/v1/tiers", json=policy, headers=api.headers()).status_code == 200
    by_api = [send(api, body) for body in bodies]
    settings: dict[str, Any] = {"expiry_policy": ExpiryPolicy.DAYS_AFTER_EARN, "expiry_value": 365}
    general, batched = make_program(**settings), make_program(**settings)
    with session_scope(db.writer) as session:
        for other in (general, batched):
            rules.replace(session, program_id=other.id, body=body, now=clock())
            tiers.replace_policy(
                session, program_id=other.id, body=PolicyIn.model_validate(policy), now=clock()
            )
    with session_scope(db.writer) as session:
        one_by_one = [
            service.ingest(session, program=general, event=e, now=clock()) for e in _inputs(bodies)
        ]
    with session_scope(db.writer) as session:
        current = rules.in_force(session, batched.id)
        in_batch = fastpath.ingest_many(
            session, program=batched, rules=current, events=_inputs(bodies), now=clock()
        )
    expected = _state(db, general.id)
    assert {t for t, *_ in expected["member_tiers"]} == {"c0", "c1", "c2", "c3"}
    assert any(row[1] == "renewed" for row in expected["tier_changes"])
    assert any(row[1] == "tier:Gold" for row in expected["awards"])
    assert _state(db, api.program.id) == expected
    assert _state(db, batched.id) == expected
    assert _results(by_api) == _results(one_by_one) == _results(in_batch)  # type: ignore[arg-type]
    with db.reader() as session:
        assert verify(session).ok


def test_programs_without_tiers_keep_the_express_lane(
    api: Api, db: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No statement about tiers on the earn path of a program without them (the policy's
    absence is cached), and on PostgreSQL the express lane still takes its events; a program
    with tiers goes to the careful path, which decides them."""
    from sqlalchemy import event as sa_event

    from punchcard.events import express

    lane_calls: list[str] = []
    real = express.try_ingest

    async def spy(*args: Any, **kwargs: Any) -> Any:
        lane_calls.append(kwargs["event"].source_id)
        return await real(*args, **kwargs)

    monkeypatch.setattr(express, "try_ingest", spy)
    send(api, event("order.placed", order_data(line("a", 1, "5.00")), customer="lane"))
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        second = event("order.placed", order_data(line("a", 1, "5.00")), customer="lane")
        send(api, second)
        assert not [s for s in seen if "tier" in s]
        if backend == "postgresql":
            assert second["id"] in lane_calls
            assert seen == []  # one statement, on the lane's own connection
        put = api.client.put("/v1/tiers", json={**TIERS, "metric": "spend"}, headers=api.headers())
        assert put.status_code == 200
        third = event("order.placed", order_data(line("a", 1, "60.00")), customer="lane")
        result = send(api, third)
        assert third["id"] not in lane_calls
        assert result["points"]["awarded"] == 60
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    view = api.client.get(f"/v1/members/{result['member_id']}/tier", headers=api.headers())
    assert view.json()["tier"] == "Gold"


def test_a_replay_sent_for_another_customer_never_maps_them_to_the_first(
    api: Api, db: Database
) -> None:
    """An event id sent again names the customer of its first sending: the answer is that
    event's stored result, with the first customer's member id. The process must not take it
    as the second customer's id (the express lane once credited the second customer's next
    orders to the first)."""
    alice, bob = uid("alice"), uid("bob")
    first = event("order.placed", order_data(line("a", 1, "10.00")), customer=alice)
    sent = send(api, first)
    again = send(api, {**first, "member": {"external_id": bob}})
    assert again == sent  # a replay: the first result, nothing earned twice
    later = send(api, event("order.placed", order_data(line("a", 2, "10.00")), customer=bob))
    assert later["member_id"] != sent["member_id"]
    assert member_id_of(api, bob) == later["member_id"]
    assert balance(api, sent["member_id"])["available"] == 10
    assert balance(api, later["member_id"])["available"] == 20
    with db.reader() as session:
        assert verify(session, api.program.id).ok
