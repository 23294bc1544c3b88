"""Every redemption test seals with a known key, so none writes a key file into the tree."""

from __future__ import annotations

import pytest

TEST_SECRET = "test-secret-key-for-sealing-0123456789"


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUNCHCARD_SECRET_KEY", TEST_SECRET)
