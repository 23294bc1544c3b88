"""Referral tests run in a program with a 14-day return window, so rewards start pending."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ExpiryPolicy
from tests.conftest import Api, ProgramFactory
from tests.referrals.helpers import PENDING_DAYS


@pytest.fixture
def ref(client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock) -> Api:
    program = make_program(
        expiry_policy=ExpiryPolicy.NEVER, expiry_value=0, pending_days=PENDING_DAYS
    )
    return Api(client, db, program, clock())
