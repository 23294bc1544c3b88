"""Custom event types with registered JSON Schemas, and the daily birthday job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from punchcard.config import Settings
from punchcard.db import Database
from punchcard.jobs import run_all
from punchcard.programs.domain import Scope
from tests.conftest import Api

QUIZ = {
    "type": "object",
    "properties": {"quiz_id": {"type": "string"}, "score": {"type": "integer", "minimum": 0}},
    "required": ["quiz_id", "score"],
    "additionalProperties": False,
}


def _event(
    event_id: str, event_type: str, data: dict[str, Any], external_id: str = "c1"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "member": {"external_id": external_id},
        "occurred_at": "2026-03-01T10:00:00Z",
        "data": data,
    }


def test_a_registered_schema_checks_custom_events(api: Api) -> None:
    put = api.client.put("/v1/event-types/custom.quiz", json=QUIZ, headers=api.headers())
    assert put.status_code == 200, put.text
    assert put.json() == {"type": "custom.quiz", "schema": QUIZ}
    bad = api.client.post(
        "/v1/events",
        json=_event("q1", "custom.quiz", {"quiz_id": "a", "score": -1}),
        headers=api.headers(),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_event_data"
    assert bad.json()["error"]["details"]["errors"][0]["path"] == "data.score"
    missing = api.client.post(
        "/v1/events", json=_event("q2", "custom.quiz", {}), headers=api.headers()
    )
    assert missing.status_code == 422
    good = api.client.post(
        "/v1/events",
        json=_event("q3", "custom.quiz", {"quiz_id": "a", "score": 3}),
        headers=api.headers(),
    )
    assert good.status_code == 200, good.text
    free = api.client.post(
        "/v1/events", json=_event("q4", "custom.other", {"anything": [1]}), headers=api.headers()
    )
    assert free.status_code == 200
    listed = api.client.get("/v1/event-types", headers=api.headers(Scope.ANALYST)).json()
    assert listed == {"items": [{"type": "custom.quiz", "schema": QUIZ}]}
    one = api.client.get("/v1/event-types/custom.quiz", headers=api.headers()).json()
    assert one["schema"] == QUIZ
    assert api.client.get("/v1/event-types/custom.none", headers=api.headers()).status_code == 404


def test_bad_registrations_are_refused(api: Api) -> None:
    not_custom = api.client.put("/v1/event-types/order.placed", json=QUIZ, headers=api.headers())
    assert not_custom.status_code == 422
    assert not_custom.json()["error"]["code"] == "invalid_event_type"
    bad_schema = api.client.put(
        "/v1/event-types/custom.quiz", json={"type": "no-such-type"}, headers=api.headers()
    )
    assert bad_schema.status_code == 422
    assert bad_schema.json()["error"]["code"] == "invalid_schema"
    forbidden = api.client.put(
        "/v1/event-types/custom.quiz", json=QUIZ, headers=api.headers(Scope.STOREFRONT)
    )
    assert forbidden.status_code == 403
    assert api.client.get("/v1/event-types", headers=api.headers()).json() == {"items": []}


def _balance(api: Api, member_id: int) -> int:
    """Points earned so far (the fixture's points expire after a year, so not `available`)."""
    body = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers()).json()
    return int(body["lifetime_earned"])


def test_birthday_job_awards_once_a_year(api: Api, db: Database) -> None:
    rules = {
        "rules": [
            {
                "id": "bday",
                "events": ["member.birthday"],
                "effect": {"type": "fixed", "points": 100},
            }
        ]
    }
    assert api.client.put("/v1/rules", json=rules, headers=api.headers()).status_code == 200
    ids = {}
    for external_id, birthday in (("b1", "1990-03-05"), ("b2", "1992-02-29"), ("b3", None)):
        body: dict[str, Any] = {"external_id": external_id}
        if birthday:
            body["birthday"] = birthday
        ids[external_id] = api.client.post("/v1/members", json=body, headers=api.headers()).json()[
            "id"
        ]
    settings = Settings()
    run_all(db, now=datetime(2026, 3, 5, 6, tzinfo=UTC), settings=settings)
    run_all(db, now=datetime(2026, 3, 5, 18, tzinfo=UTC), settings=settings)
    assert [_balance(api, ids[k]) for k in ("b1", "b2", "b3")] == [100, 0, 0]
    run_all(db, now=datetime(2027, 2, 28, 6, tzinfo=UTC), settings=settings)  # no 29th in 2027
    run_all(db, now=datetime(2027, 3, 5, 6, tzinfo=UTC), settings=settings)
    assert [_balance(api, ids[k]) for k in ("b1", "b2", "b3")] == [200, 100, 0]
