"""Portal tests run the whole app (API and portal) on the test's database with a fixed clock
and a known secret key, so stored codes can be sealed and read back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ProgramSettings
from tests.conftest import Api
from tests.web.portal.helpers import SECRET, make_program


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(database_url=db.url, secret_key=SECRET, mail_transport="log")


@pytest.fixture
def portal(db: Database, clock: FixedClock, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def shop(db: Database, clock: FixedClock) -> ProgramSettings:
    return make_program(db, clock)


@pytest.fixture
def shop_api(portal: TestClient, db: Database, shop: ProgramSettings, clock: FixedClock) -> Api:
    return Api(portal, db, shop, clock())
