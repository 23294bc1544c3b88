"""The analytics settings of a program: what a point costs and the expected breakage, set,
read back, refused when out of range, and sent back to unset with null."""

from __future__ import annotations

from typing import Any

import pytest

from punchcard.programs.domain import Scope
from tests.conftest import Api


def _patch(api: Api, **body: object) -> Any:
    return api.client.patch("/v1/program", json=body, headers=api.headers())


def test_settings_are_set_read_and_cleared(api: Api) -> None:
    response = _patch(api, point_value="0.01", expected_breakage="0.25")
    assert response.status_code == 200, response.text
    shown = api.client.get("/v1/program", headers=api.headers(Scope.ANALYST)).json()
    assert shown["point_value"] == "0.010000"
    assert shown["expected_breakage"] == "0.2500"
    untouched = _patch(api, name="renamed").json()
    assert untouched["point_value"] == "0.010000"
    cleared = _patch(api, point_value=None, expected_breakage=None).json()
    assert cleared["point_value"] is None
    assert cleared["expected_breakage"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"point_value": "-0.01"},
        {"point_value": "0.0000001"},
        {"expected_breakage": "1.5"},
        {"expected_breakage": "-0.1"},
        {"expected_breakage": "0.12345"},
        {"point_value": "lots"},
    ],
)
def test_out_of_range_settings_are_refused(api: Api, body: dict[str, object]) -> None:
    response = _patch(api, **body)
    assert response.status_code == 422, response.text
    assert "error" in response.json()
