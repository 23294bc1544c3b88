"""schemathesis over the whole OpenAPI document (`/openapi.json`), against the in-process app
on both backends, authenticated with an admin key of a program that has a member and some
history (an order, a partial refund, a spend).

It runs schemathesis's engine, the one behind `schemathesis run`, with every phase (the
documented examples, boundary values of every parameter, random valid and invalid data, and
stateful sequences that follow the links between operations) and its checks: no 5xx; status
codes, content types, headers and bodies as documented; invalid data refused; a missing key
answered 401; an undeclared method answered 405 with a true `Allow`; deleted resources gone.
The pytest plugin cannot be used with a schema that needs fixtures: its lazy schemas read
`Node._nodeid`, which pytest 9.2 no longer has.

Path parameters are the program's real ids most of the time, so that the run reaches real
members and transactions instead of 404 after 404. `key_id` only ever names a spare key or no
key at all: revoking the admin key the run authenticates with would turn the rest into 401s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.schemas import BaseSchema

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.kit.cursor import encode
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, Scope
from tests.conftest import Api, ProgramFactory
from tests.reliability.conftest import BUDGET

MAIN_EXAMPLES = 2  # per operation and phase, in the main suite (on each backend)
NO_SUCH_KEY = 10**12
CUSTOM = "custom.fuzz_quiz"
# Reads of the program's real resources: each must have succeeded at least once, which shows
# that the key kept working and the ids were used.
MUST_SUCCEED = (
    "GET /v1/program",
    "GET /v1/api-keys",
    "GET /v1/members",
    "GET /v1/members/{member_id}",
    "GET /v1/members/{member_id}/balance",
    "GET /v1/members/{member_id}/card.svg",
    "GET /v1/members/{member_id}/transactions/{transaction_id}",
    "GET /v1/rules",
    "GET /v1/event-types",
)

# positive_data_acceptance is off: it wants every request the document allows to succeed, but
# a JSON Schema cannot say what the API checks across fields or by meaning (exactly one member
# identifier, an expiry policy and its value, a non-zero adjustment, a deliverable e-mail, a
# printable Idempotency-Key...), which the API refuses with a 422 the document does list.
CHECKS: dict[str, Any] = {"positive_data_acceptance": {"enabled": False}}
# What every run must have exercised, or it proved little.
REQUIRED = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)


@dataclass(frozen=True)
class History:
    member: int
    transactions: tuple[int, ...]


@dataclass
class Report:
    """What a run did: checks made, statuses seen per operation, and every failure."""

    checks: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stop_reason: str = "not finished"

    def record(self, recorder: ScenarioRecorder) -> None:
        for case_id, interaction in recorder.interactions.items():
            if interaction.response is not None:
                label = recorder.cases[case_id].value.operation.label
                status = interaction.response.status_code
                self.statuses.setdefault(label, Counter())[status] += 1
        for nodes in recorder.checks.values():
            for node in nodes:
                self.checks[node.name] += 1
                if node.status != Status.FAILURE or node.failure_info is None:
                    continue
                failure = node.failure_info.failure
                self.failures.append(
                    f"{node.name} on {failure.operation}: {failure.title}\n{failure.message}\n"
                    f"{node.failure_info.code_sample}"
                )


def run(schema: BaseSchema) -> Report:
    report = Report()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            report.record(event.recorder)
        elif isinstance(event, events.NonFatalError):
            report.failures.append(f"error on {event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            report.failures.append(f"fatal error: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            report.stop_reason = str(event.stop_reason)
            report.failures += [str(failure) for failure in event.failures]
    return report


def make_history(client: TestClient, key: str) -> History:
    """A member with an earning order, a partial refund of it and a spend."""
    headers = {"Authorization": f"Bearer {key}"}
    enrolled = client.post(
        "/v1/members", json={"external_id": "fuzz-1", "email": "a@example.com"}, headers=headers
    )
    assert enrolled.status_code == 201, enrolled.text
    member = enrolled.json()["id"]
    txs = []
    for event_type, data in (
        ("order.placed", {"order_id": "o1", "currency": "USD", "total": "120.00",
                          "lines": [{"sku": "A", "quantity": 2, "unit_price": "60.00"}]}),
        ("order.refunded", {"order_id": "o1", "lines": [{"sku": "A", "quantity": 1}]}),
    ):  # fmt: skip
        body = {
            "id": f"fuzz-{event_type}",
            "type": event_type,
            "member": {"id": member},
            "occurred_at": "2026-01-10T10:00:00Z",
            "data": data,
        }
        sent = client.post("/v1/events", json=body, headers=headers)
        assert sent.status_code == 200, sent.text
        txs.append(sent.json()["transaction_id"])
    spent = client.post(
        f"/v1/members/{member}/spend", json={"points": 30, "reason": "mug"}, headers=headers
    )
    assert spent.status_code == 201, spent.text
    txs.append(spent.json()["id"])
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}}
    registered = client.put(f"/v1/event-types/{CUSTOM}", json=schema, headers=headers)
    assert registered.status_code == 200, registered.text
    return History(member, tuple(txs))


def fuzz_config(examples: int, key: str, past: History, spare_key: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": examples},
            "checks": CHECKS,
            "suppress-health-check": ["all"],
            "auth": {"openapi": {"HTTPBearer": {"bearer": key}}},
            "dictionaries": {
                "members": {"values": [past.member]},
                "transactions": {"values": list(past.transactions)},
                "keys": {"values": [spare_key, NO_SUCH_KEY]},
                "event_types": {"values": [CUSTOM, "custom.other"]},
            },
            "parameters": {
                "path.member_id": {"dictionary": "members", "probability": 0.8},
                "path.transaction_id": {"dictionary": "transactions", "probability": 0.8},
                "path.key_id": {"dictionary": "keys", "probability": 1.0},
                "path.event_type": {"dictionary": "event_types", "probability": 0.8},
            },
        }
    )


@pytest.fixture(
    params=[
        pytest.param(MAIN_EXAMPLES, id="main"),
        pytest.param(BUDGET.fuzz_examples, id="deep", marks=pytest.mark.reliability),
    ]
)
def examples(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def test_every_operation_answers_as_its_openapi_document_says(
    examples: int, db: Database, clock: FixedClock, make_program: ProgramFactory
) -> None:
    program = make_program()
    with session_scope(db.writer) as session:
        admin = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=clock()
        )
        spare = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.STOREFRONT,), now=clock()
        )
    app = create_app(Settings(database_url=db.url), db=db, clock=clock)
    with TestClient(app) as client:
        past = make_history(client, admin.api_key)
    config = fuzz_config(examples, admin.api_key, past, spare.id)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    report = run(schema)

    assert report.stop_reason == "completed", report.stop_reason
    assert not report.failures, "\n\n".join(report.failures)
    assert all(report.checks[name] > 0 for name in REQUIRED), report.checks
    statuses = {label: dict(found) for label, found in report.statuses.items()}
    assert len(statuses) >= 27, sorted(statuses)  # every operation of the document was called
    only_401 = [label for label, found in statuses.items() if set(found) == {401}]
    assert not only_401, {label: statuses[label] for label in only_401}
    never_ok = [label for label in MUST_SUCCEED if min(statuses.get(label, {999: 0})) >= 300]
    assert not never_ok, {label: statuses.get(label) for label in never_ok}
    with TestClient(app) as client:
        still = client.get("/v1/program", headers={"Authorization": f"Bearer {admin.api_key}"})
    assert still.status_code == 200, still.text


# --- what the fuzzing found, pinned down --------------------------------------------------


def openapi_document() -> dict[str, Any]:
    app = create_app(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nope"))
    try:
        document: dict[str, Any] = app.openapi()
    finally:
        app.state.db.dispose()
    return document


def test_an_undeclared_method_is_405_naming_every_method_of_the_path(api: Api) -> None:
    """Starlette names only the first route matching the path; /v1/program has two."""
    for method, path, allowed in (
        ("OPTIONS", "/v1/program", {"GET", "HEAD", "PATCH"}),
        ("DELETE", "/v1/members/1", {"GET", "HEAD", "PATCH"}),
        ("GET", "/v1/api-keys/1", {"DELETE"}),
    ):
        response = api.client.request(method, path, headers=api.headers())

        assert response.status_code == 405, (method, path, response.text)
        assert set(response.headers["allow"].split(", ")) == allowed, (method, path)
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_is_not_even_text_is_400_malformed_json(api: Api) -> None:
    response = api.client.post(
        "/v1/rules/validate",
        content=b"\x13\x14\xff\x1c",
        headers={**api.headers(), "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"


def test_every_operation_that_reads_a_json_body_documents_400() -> None:
    """Any JSON body can be malformed, and the API answers that with 400 `malformed_json`."""
    document = openapi_document()
    undocumented = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation and "400" not in operation["responses"]
    ]

    assert not undocumented


def test_text_with_a_nul_character_is_refused_on_postgresql_never_a_500(
    api: Api, backend: str
) -> None:
    """PostgreSQL cannot store NUL in text: the fuzzing got 500s from it (API key names, spend
    references...). It is the caller's mistake, a 422; SQLite stores such text as it is."""
    enrolled = api.client.post("/v1/members", json={"external_id": "nul"}, headers=api.headers())
    assert enrolled.status_code == 201, enrolled.text
    member = enrolled.json()["id"]
    calls = [
        ("POST", "/v1/api-keys", {"name": "till\x00", "scopes": ["pos"]}, 201),
        ("POST", f"/v1/members/{member}/adjustments", {"points": 5, "reason": "a\x00b"}, 201),
        ("POST", "/v1/members", {"external_id": "x\x00y"}, 201),
        ("GET", "/v1/members?external_id=x%00z", None, 200),
    ]
    for method, path, body, stored in calls:
        response = api.client.request(method, path, json=body, headers=api.headers())

        expected = 422 if backend == "postgresql" else stored
        assert response.status_code == expected, (method, path, response.text)
        if expected == 422:
            assert response.json()["error"]["code"] == "validation_error"
    balance = api.client.get(f"/v1/members/{member}/balance", headers=api.headers())
    assert balance.json()["available"] == (0 if backend == "postgresql" else 5)


@pytest.mark.parametrize(
    "settings",
    [
        {"pending_days": 14},
        {"expiry_policy": ExpiryPolicy.DAYS_AFTER_EARN, "expiry_value": 365},
        {"expiry_policy": ExpiryPolicy.END_OF_YEAR, "expiry_value": 12},
    ],
    ids=["pending", "days_after_earn", "end_of_year"],
)
def test_an_order_dated_at_the_end_of_time_is_refused_not_a_500(
    settings: dict[str, Any],
    db: Database,
    clock: FixedClock,
    make_program: ProgramFactory,
) -> None:
    program = make_program(**settings)
    app = create_app(Settings(database_url=db.url), db=db, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, db, program, clock())
        order = {"order_id": "late", "currency": "USD", "total": "10.00"}
        for path, body in (
            ("/v1/events", {"id": "late", "type": "order.placed", "member": {"external_id": "z"},
                            "occurred_at": "9999-12-31T23:59:59Z", "data": order}),
            ("/v1/events/batch", {"events": [{"id": "late-2", "type": "order.placed",
                                              "member": {"external_id": "z"},
                                              "occurred_at": "9999-12-31T23:59:59Z",
                                              "data": {**order, "order_id": "late-2"}}]}),
        ):  # fmt: skip
            response = client.post(path, json=body, headers=api.headers())

            assert response.status_code == (422 if path == "/v1/events" else 200), response.text
            if path == "/v1/events/batch":
                (item,) = response.json()["items"]
                assert item["status"] == 422, item


def test_an_id_beyond_64_bits_is_refused_never_a_500(api: Api) -> None:
    """SQLite cannot even bind such an integer (OverflowError) and PostgreSQL refuses it
    (DataError): every path id is declared at most 2^63 - 1, and a cursor cannot carry more."""
    enrolled = api.client.post("/v1/members", json={"external_id": "big"}, headers=api.headers())
    assert enrolled.status_code == 201, enrolled.text
    member = enrolled.json()["id"]
    huge = 2**70
    paths = [
        f"/v1/members/{huge}",
        f"/v1/members/{huge}/balance",
        f"/v1/members/{member}/transactions/{huge}",
        f"/v1/members/{member}/transactions?cursor={encode(huge)}",
        f"/v1/members/{member}/transactions/{huge}/explain",
    ]
    client = TestClient(api.client.app, raise_server_exceptions=False)
    for path in paths:
        response = client.get(path, headers=api.headers())

        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] in ("validation_error", "invalid_cursor"), path
