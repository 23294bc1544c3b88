"""Dates and times in request bodies are ISO 8601 strings: a number is refused (pydantic
would read it as seconds since 1970; schemathesis found a birthday of -2.4e-35 accepted)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data


def _member(api: Api) -> int:
    made = api.client.post("/v1/members", json={"external_id": "dates"}, headers=api.headers())
    assert made.status_code in (200, 201), made.text
    return int(made.json()["id"])


def _refused(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text
    body = answer.json()["error"]
    assert body["code"] == "validation_error", body
    assert field in answer.text, body
    assert "ISO 8601" in answer.text, body


@pytest.mark.parametrize("number", [0, -2.371450015542856e-35, 1_700_000_000, 86400.0])
def test_a_number_is_not_a_birthday(api: Api, number: float) -> None:
    member = _member(api)
    patched = api.client.patch(
        f"/v1/members/{member}", json={"birthday": number}, headers=api.headers()
    )
    _refused(patched, "birthday")
    enrolled = api.client.post(
        "/v1/members", json={"external_id": "n", "birthday": number}, headers=api.headers()
    )
    _refused(enrolled, "birthday")
    shown = api.client.get(f"/v1/members/{member}", headers=api.headers()).json()
    assert shown["birthday"] is None


def test_a_string_is_still_a_birthday(api: Api) -> None:
    member = _member(api)
    patched = api.client.patch(
        f"/v1/members/{member}", json={"birthday": "1990-05-17"}, headers=api.headers()
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["birthday"] == "1990-05-17"


def test_a_number_is_not_when_an_event_happened(api: Api) -> None:
    body = event("order.placed", order_data(line("a", 1, "5.00")))
    body["occurred_at"] = 1_700_000_000
    answer = api.client.post("/v1/events", json=body, headers=api.headers())
    _refused(answer, "occurred_at")
    batch = api.client.post("/v1/events/batch", json={"events": [body]}, headers=api.headers())
    assert batch.status_code == 200, batch.text
    assert batch.json()["items"][0]["status"] == 422


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/rewards",
            {"name": "r", "type": "discount_code", "points_cost": 5, "value": "5",
             "valid_from": 0},
            "valid_from",
        ),
        ("/v1/analytics/predictions", {"calibration_end": 20260101}, "calibration_end"),
    ],
)  # fmt: skip
def test_other_dates_are_strings_too(api: Api, path: str, body: dict[str, Any], field: str) -> None:
    _refused(api.client.post(path, json=body, headers=api.headers()), field)
