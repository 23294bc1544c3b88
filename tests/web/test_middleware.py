"""What every portal and admin response carries (web/middleware.py, web/errors.py): a session
cookie with safe flags, a policy that forbids loading anything from elsewhere, the chosen
language, and an HTML error page instead of JSON or a traceback; the API is left as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database


def _client(db: Database, *, cookie_secure: bool = False) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db.url, secret_key="middleware-test-secret", cookie_secure=cookie_secure
    )
    app = create_app(settings, db=db)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    yield from _client(db)


@pytest.mark.parametrize("path", ["/portal/no-such-page", "/admin/no-such-page"])
def test_pages_get_a_safe_cookie_a_strict_policy_and_an_html_404(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"Accept-Language": "hu"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>" in response.text
    assert "Traceback" not in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    expected = "hu" if path.startswith("/portal") else "en"  # the admin console is English
    assert response.headers["content-language"] == expected


def test_the_cookie_is_secure_when_the_setting_says_so(db: Database) -> None:
    for client in _client(db, cookie_secure=True):
        assert "Secure" in client.get("/portal/no-such-page").headers["set-cookie"]


def test_the_api_keeps_its_json_errors_and_sets_no_cookie(client: TestClient) -> None:
    response = client.get("/v1/no-such-route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "set-cookie" not in response.headers
    assert "content-security-policy" not in response.headers


def test_the_scripts_are_served_by_the_server_itself(client: TestClient) -> None:
    for name in ("htmx.min.js", "chart.umd.min.js"):
        response = client.get(f"/static/vendor/{name}")
        assert response.status_code == 200, f"{name}: run `make install` (npm ci)"
        assert len(response.content) > 10_000


def test_a_failure_of_ours_is_a_page_with_the_same_headers(db: Database) -> None:
    """An unexpected exception becomes the 500 page, in the visitor's language, with the
    policy headers (Starlette's outer error handler would have answered without them)."""
    from starlette.routing import Mount

    app = create_app(Settings(database_url=db.url, secret_key="middleware-test-secret"), db=db)
    portal = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/portal").app

    def boom() -> None:
        raise RuntimeError("a bug")

    portal.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/portal/boom", headers={"Accept-Language": "fi"})
    assert response.status_code == 500
    assert "a bug" not in response.text
    assert "Traceback" not in response.text
    assert "<title>" in response.text
    assert response.headers["content-language"] == "fi"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
