"""Browser tests: the real app served by uvicorn on a free port (in a thread of the test
process, on the test's database), driven by Playwright in Debian's headless Chromium.

Screenshots go to `test-artifacts/screenshots/` at the project root (git-ignored), for people
to look at after a run. Nothing is downloaded: Playwright is told where Debian's Chromium is.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.kit.clock import utcnow
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TEST_SECRET = "web-tests-secret-key-0123456789"


@dataclass
class Live:
    """A running server: its address, its database, its settings, and a program of the test's
    own on it."""

    base_url: str
    db: Database
    settings: Settings
    program: ProgramSettings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(db: Database) -> Iterator[Live]:
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET, mail_transport="log")
    app = create_app(settings, db=db, clock=utcnow)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name=f"Web {uuid.uuid4().hex[:6]}",
            now=utcnow(),
            expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
            expiry_value=365,
        )
    try:
        yield Live(f"http://127.0.0.1:{port}", db, settings, program)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class PageFactory(Protocol):
    """The type of `new_page`: call with a viewport (PHONE or DESKTOP) and a browser locale."""

    def __call__(self, viewport: dict[str, int] = PHONE, locale: str = "en-US") -> Page: ...


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """Pages in fresh browser contexts (cookies of their own), closed after the test. Every
    request that leaves the test server is recorded in `outside`, so a test can assert that
    no page loads anything from elsewhere."""
    contexts = []

    def make(viewport: dict[str, int] = PHONE, locale: str = "en-US") -> Page:
        context = browser.new_context(viewport=viewport, locale=locale)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        outside: list[str] = []
        page.on(
            "request",
            lambda request: (
                outside.append(request.url)
                if not request.url.startswith(("http://127.0.0.1", "data:", "about:"))
                else None
            ),
        )
        page.outside = outside  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/<name>.png and return the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
