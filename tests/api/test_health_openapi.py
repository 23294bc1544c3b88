"""/health for load balancers, and the OpenAPI document the API promises to callers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard import __version__
from punchcard.app import create_app
from punchcard.config import Settings

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nope"
ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def down() -> Iterator[TestClient]:
    """An app whose database cannot be reached (no db fixture: runs once, not per backend)."""
    app = create_app(Settings(database_url=UNREACHABLE))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.db.dispose()


@pytest.fixture(scope="module")
def spec(down: TestClient) -> dict[str, Any]:
    response = down.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def ref_of(response: dict[str, Any]) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref: str | None = schema.get("$ref")
    return ref


# --- health ------------------------------------------------------------------------------


def test_health_is_200_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": __version__}


def test_health_needs_no_api_key(client: TestClient) -> None:
    response = client.get("/health", headers={"Authorization": "Bearer pc_wrong"})

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_is_503_unavailable_when_the_database_is_down(down: TestClient) -> None:
    response = down.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert "Traceback" not in response.text
    assert "127.0.0.1" not in response.text


def test_api_call_with_the_database_down_is_an_error_body_without_a_trace(
    down: TestClient,
) -> None:
    response = down.get("/v1/members", headers={"Authorization": "Bearer pc_anything"})

    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text
    assert "127.0.0.1" not in response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "database_unavailable"


# --- OpenAPI -----------------------------------------------------------------------------


def test_openapi_describes_the_api(spec: dict[str, Any]) -> None:
    assert spec["info"]["title"] == "Punchcard"
    assert spec["info"]["version"] == __version__
    assert "Idempotency-Key" in spec["info"]["description"]
    for path in (
        "/v1/members",
        "/v1/members/{member_id}",
        "/v1/members/{member_id}/balance",
        "/v1/members/{member_id}/transactions",
        "/v1/members/{member_id}/spend",
        "/v1/members/{member_id}/adjustments",
        "/v1/members/{member_id}/transactions/{transaction_id}/reversals",
        "/health",
    ):
        assert path in spec["paths"], path


def test_spend_documents_its_error_responses_with_the_error_body(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/v1/members/{member_id}/spend"]["post"]["responses"]

    assert "201" in responses
    for status in ("400", "401", "403", "404", "409", "422"):
        assert status in responses, status
        assert ref_of(responses[status]) == ERROR_REF, status
    assert "insufficient_points" in responses["409"]["description"]


def test_error_body_schema_is_code_message_details(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    body = schemas["ErrorBody"]
    assert body["required"] == ["error"]
    detail_ref = body["properties"]["error"]["$ref"]
    detail = schemas[detail_ref.rsplit("/", 1)[-1]]
    assert set(detail["properties"]) == {"code", "message", "details"}
    assert {"code", "message"} <= set(detail["required"])


def test_every_v1_error_response_uses_the_error_body(spec: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in operations(spec):
        if not path.startswith("/v1/"):
            continue
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert ref_of(response) == ERROR_REF, (method, path, status)
                checked += 1
        assert "422" in operation["responses"], (method, path)
        assert "401" in operation["responses"], (method, path)
    assert checked > 20


def test_bearer_security_scheme_applies_to_every_v1_operation(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s == s | {"type": "http", "scheme": "bearer"}]

    assert len(bearer) == 1
    for path, method, operation in operations(spec):
        if path.startswith("/v1/"):
            assert {bearer[0]: []} in operation.get("security", []), (method, path)
    health = spec["paths"]["/health"]["get"]
    assert "security" not in health
    assert "503" in health["responses"]


def test_write_operations_document_the_409_or_400_they_can_give(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path in (
        "/v1/members/{member_id}/spend",
        "/v1/members/{member_id}/adjustments",
        "/v1/members/{member_id}/transactions/{transaction_id}/reversals",
    ):
        responses = paths[path]["post"]["responses"]
        assert {"400", "404", "409", "422"} <= set(responses), path
    assert "200" in paths["/v1/members"]["post"]["responses"]
    assert "201" in paths["/v1/members"]["post"]["responses"]


def test_every_write_documents_the_idempotency_key_header(spec: dict[str, Any]) -> None:
    writes = [
        ("post", "/v1/members"),
        ("patch", "/v1/members/{member_id}"),
        ("post", "/v1/members/{member_id}/spend"),
        ("post", "/v1/members/{member_id}/adjustments"),
        ("post", "/v1/members/{member_id}/transactions/{transaction_id}/reversals"),
    ]
    for method, path in writes:
        parameters = spec["paths"][path][method].get("parameters", [])
        headers = [p for p in parameters if p["in"] == "header"]
        names = [p["name"].lower() for p in headers]
        assert "idempotency-key" in names, (method, path)
        assert not headers[names.index("idempotency-key")].get("required", False)


def test_card_images_are_documented_as_images(spec: dict[str, Any]) -> None:
    svg = spec["paths"]["/v1/members/{member_id}/card.svg"]["get"]["responses"]["200"]
    png = spec["paths"]["/v1/members/{member_id}/card.png"]["get"]["responses"]["200"]

    assert "image/svg+xml" in svg["content"]
    assert "image/png" in png["content"]
