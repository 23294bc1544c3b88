"""A second program with its own keys, for the tenancy tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import Api, ProgramFactory


@pytest.fixture
def other_api(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> Api:
    return Api(client, db, make_program(), clock())
