"""The program's points names per language through the API (PATCH /v1/program), which the
settings page also edits: checked, returned, and cleared with null."""

from __future__ import annotations

import pytest

from tests.conftest import Api


def test_points_names_are_set_read_and_cleared(api: Api) -> None:
    names = {"ka": "ქულები", "fi": "pisteet"}
    response = api.client.patch("/v1/program", json={"points_names": names}, headers=api.headers())
    assert response.status_code == 200, response.text
    assert response.json()["points_names"] == names
    assert api.client.get("/v1/program", headers=api.headers()).json()["points_names"] == names
    cleared = api.client.patch("/v1/program", json={"points_names": None}, headers=api.headers())
    assert cleared.json()["points_names"] == {}


@pytest.mark.parametrize("names", [{"de": "Punkte"}, {"hu": ""}, {"gu": "x" * 51}])
def test_bad_points_names_are_refused(api: Api, names: dict[str, str]) -> None:
    response = api.client.patch("/v1/program", json={"points_names": names}, headers=api.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_settings"
    assert api.client.get("/v1/program", headers=api.headers()).json()["points_names"] == {}
