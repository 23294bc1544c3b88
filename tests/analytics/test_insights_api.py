"""The prediction service on a real database: the CDNOW sample imported through the events
importer reproduces the published BG/NBD and Gamma-Gamma estimates, a kept fit scores one
member, and a program whose orders cannot support a model gets a clear 409."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from punchcard.analytics.prediction import bgnbd
from punchcard.analytics.prediction.rfm import SEGMENTS
from punchcard.app import create_app
from punchcard.cli import app as cli
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.events.importer import import_orders
from punchcard.events.sources import read
from punchcard.kit.clock import FixedClock
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings, Scope
from tests.conftest import START, Api
from tests.leaderboards.helpers import at, buy

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_sample.txt"
# The imported sample is shared by the module's tests: one worker imports it once per backend.
pytestmark = pytest.mark.xdist_group("cdnow-sample")

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _close(found: float, published: float, tolerance: float = 0.01) -> bool:
    return abs(found - published) <= tolerance * abs(published)


def _holdout_actual() -> tuple[int, int]:
    """Customers and repeat transaction days in the holdout, counted straight from the file
    the way the importer sees it (zero-value rows dropped)."""
    days: dict[str, set[str]] = {}
    for text in SAMPLE.read_text().splitlines():
        customer, _, day, _, value = text.split()
        if float(value) > 0:
            days.setdefault(customer, set()).add(day)
    customers = [d for d in days.values() if min(d) <= "19970930"]
    repeat = sum(1 for d in customers for day in d if "19970930" < day <= "19980630")
    return len(customers), repeat


class Sample:
    def __init__(self, db: Database, program: ProgramSettings, keys: dict[Scope, str]) -> None:
        self.db = db
        self.program = program
        self.keys = keys
        clock = FixedClock(START)
        self.app = create_app(Settings(database_url=db.url), db=db, clock=clock)

    def headers(self, scope: Scope = Scope.ANALYST) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def member(self, external_id: str) -> int:
        with self.db.reader() as session:
            found = members.find_ids(
                session, program_id=self.program.id, external_ids=[external_id]
            )
        return found[external_id]


@pytest.fixture(scope="module")
def sample(db: Database) -> Sample:
    """One program per backend with the whole CDNOW sample imported (6,919 rows)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name=f"cdnow {uuid.uuid4().hex[:6]}", now=now)
        keys = {
            scope: programs.create_api_key(
                session, program_id=program.id, scopes=(scope,), now=now
            ).api_key
            for scope in Scope
        }
    report = import_orders(
        db, program_id=program.id, rows=read(SAMPLE, "cdnow-sample"), fmt="cdnow-sample", now=now
    )
    assert report.orders_imported == 6919 - 8  # the sample has 8 zero-value rows
    return Sample(db, program, keys)


def _fit(client: TestClient, sample: Sample, **body: Any) -> Any:
    return client.post("/v1/analytics/predictions", json=body, headers=sample.headers())


def test_cdnow_sample_reproduces_the_published_estimates(sample: Sample) -> None:
    with TestClient(sample.app) as client:
        response = _fit(
            client, sample, calibration_end="1997-09-30", holdout_end="1998-06-30", save=False
        )
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["id"] is None
    bg = found["bgnbd"]
    for name, published in PUBLISHED_BGNBD.items():
        assert _close(bg[name], published), (name, bg[name], published)
    assert _close(bg["log_likelihood"], PUBLISHED_LL)
    assert bg["converged"] is True
    gg = found["gamma_gamma"]
    for name, published in PUBLISHED_GG.items():
        assert _close(gg[name], published), (name, gg[name], published)
    customers, repeat = _holdout_actual()
    # 8 of the 2,357 sample customers bought only for $0.00 and the importer skips those rows.
    assert found["customers"] == customers == 2349
    held = found["holdout"]
    assert held["actual"] == repeat
    # The model under-forecasts this holdout by about 12% (1,653 against 1,882): reported in
    # docs/prediction.md; a change that moves it far from there is a regression.
    assert _close(held["predicted"], repeat, tolerance=0.15)
    assert 0.5 < held["auc"] <= 1.0
    assert held["weeks"] == pytest.approx(39.0)


def test_cli_prints_the_fit_as_json_and_text(sample: Sample) -> None:
    args = ["analytics", "clv", "--db", sample.db.url, "--program", str(sample.program.id)]
    args += ["--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert set(found["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(found["gamma_gamma"]) >= {"p", "q", "v"}
    assert set(found["holdout"]) >= {"predicted", "actual", "auc"}
    assert _close(found["bgnbd"]["r"], PUBLISHED_BGNBD["r"])
    assert found["id"] is None  # not kept without --save
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    assert "BG/NBD: r=0.24" in text.stdout
    assert "AUC" in text.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calibration-end", "1997-13-01"], "--calibration-end must be a date"),
        (
            ["--calibration-end", "1997-09-30", "--holdout-end", "1997-09-01"],
            "--holdout-end must come after --calibration-end",
        ),
        (["--calibration-end", "2999-01-01"], "in the future"),
    ],
)
def test_cli_bad_dates_exit_2_with_one_line(sample: Sample, extra: list[str], message: str) -> None:
    args = ["analytics", "clv", "--db", sample.db.url, "--program", str(sample.program.id)]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_kept_model_scores_a_members_insights(sample: Sample) -> None:
    member = sample.member("00004")
    with TestClient(sample.app) as client:
        kept = _fit(client, sample, calibration_end="1997-09-30")
        assert kept.status_code == 201, kept.text
        model_id = kept.json()["id"]
        latest = client.get("/v1/analytics/predictions/latest", headers=sample.headers())
        assert latest.status_code == 200
        assert latest.json()["id"] == model_id
        response = client.get(
            f"/v1/members/{member}/insights",
            params={"as_of": "1997-09-30", "weeks": 39},
            headers=sample.headers(),
        )
    assert response.status_code == 200, response.text
    found = response.json()
    # 00004 bought on 1997-01-01, 1997-01-18 and 1997-08-02 (then on 1997-12-12, after as_of).
    assert found["purchases"] == {
        "transactions": 3,
        "orders": 3,
        "first": "1997-01-01",
        "last": "1997-08-02",
        "total_value": "74.02",
    }
    assert found["model"]["id"] == model_id
    assert found["rfm"]["segment"] in SEGMENTS
    assert found["rfm"]["recency_days"] == (date(1997, 9, 30) - date(1997, 8, 2)).days
    params = bgnbd.BgNbdParams(**{k: kept.json()["bgnbd"][k] for k in ("r", "alpha", "a", "b")})
    x, t_x, big_t = np.array([2.0]), np.array([213 / 7]), np.array([272 / 7])
    expected = bgnbd.expected_purchases(params, 39.0, x, t_x, big_t)[0]
    alive = bgnbd.p_alive(params, x, t_x, big_t)[0]
    prediction = found["prediction"]
    assert prediction["expected_purchases"] == pytest.approx(expected)
    assert prediction["p_alive"] == pytest.approx(alive)
    assert 0 < prediction["p_alive"] <= 1
    assert prediction["expected_average_value"] > 0
    assert prediction["clv"] > 0
    assert found["notes"] == []


def test_insights_refuse_other_programs_and_storefront_keys(sample: Sample, api: Api) -> None:
    member = sample.member("00004")
    other = api.client.get(f"/v1/members/{member}/insights", headers=api.headers(Scope.ADMIN))
    assert other.status_code == 404
    with TestClient(sample.app) as client:
        store = client.get(
            f"/v1/members/{member}/insights", headers=sample.headers(Scope.STOREFRONT)
        )
        future = client.get(
            f"/v1/members/{member}/insights",
            params={"as_of": "2999-01-01"},
            headers=sample.headers(),
        )
    assert store.status_code == 403
    assert future.status_code == 422
    assert future.json()["error"]["code"] == "invalid_value"


def test_insights_without_a_model_or_without_orders_say_why(api: Api, clock: FixedClock) -> None:
    buy(api, clock, "buyer", "10.00", at(2026, 1, 2))
    enrolled = api.client.post(
        "/v1/members", json={"external_id": "nobody"}, headers=api.headers()
    ).json()["id"]
    buyer = api.client.get(
        "/v1/members", params={"external_id": "buyer"}, headers=api.headers()
    ).json()["items"][0]["id"]
    response = api.client.get(f"/v1/members/{buyer}/insights", headers=api.headers())
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["prediction"] is None
    assert found["model"] is None
    assert found["purchases"]["orders"] == 1
    assert "no prediction model" in found["notes"][0]
    empty = api.client.get(f"/v1/members/{enrolled}/insights", headers=api.headers()).json()
    assert empty["purchases"]["orders"] == 0
    assert empty["rfm"] is None
    assert "not bought anything" in empty["notes"][0]
    missing = api.client.get("/v1/analytics/predictions/latest", headers=api.headers())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def _error(api: Api, **body: Any) -> tuple[int, str, str]:
    response = api.client.post("/v1/analytics/predictions", json=body, headers=api.headers())
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_no_orders_gives_a_clear_409(api: Api) -> None:
    status, code, message = _error(api, calibration_end="2026-01-10")
    assert (status, code) == (409, "no_orders")
    assert "2026-01-10" in message or "no orders" in message


def test_one_customer_gives_a_clear_409(api: Api, clock: FixedClock) -> None:
    for day in (2, 5, 9):
        buy(api, clock, "only", "10.00", at(2026, 1, day))
    status, code, _ = _error(api, calibration_end="2026-01-09")
    assert (status, code) == (409, "too_few_customers")


def test_orders_all_on_one_day_give_a_clear_409(api: Api, clock: FixedClock) -> None:
    for n in range(12):
        buy(api, clock, f"same-{n}", "10.00", at(2026, 1, 3))
    status, code, message = _error(api, calibration_end="2026-01-03")
    assert (status, code) == (409, "single_day")
    assert "same day" in message


def test_bad_dates_are_422(api: Api) -> None:
    status, code, _ = _error(api, calibration_end="2026-01-10", holdout_end="2026-01-01")
    assert (status, code) == (422, "bad_holdout")
    status, code, _ = _error(api, calibration_end="2999-01-01")
    assert (status, code) == (422, "invalid_value")
    response = api.client.post(
        "/v1/analytics/predictions", json={"calibration_end": "soon"}, headers=api.headers()
    )
    assert response.status_code == 422


def test_storefront_keys_cannot_fit(api: Api) -> None:
    response = api.client.post(
        "/v1/analytics/predictions", json={}, headers=api.headers(Scope.STOREFRONT)
    )
    assert response.status_code == 403


def test_segments_count_every_buyer_and_list_the_most_valuable_first(sample: Sample) -> None:
    with TestClient(sample.app) as client:
        assert _fit(client, sample, calibration_end="1997-09-30").status_code == 201
        response = client.get(
            "/v1/analytics/segments", params={"as_of": "1998-06-30"}, headers=sample.headers()
        )
        assert response.status_code == 200, response.text
        found = response.json()
        listed = client.get(
            "/v1/analytics/segments/at_risk/members",
            params={"as_of": "1998-06-30", "limit": 5},
            headers=sample.headers(),
        )
        unknown = client.get("/v1/analytics/segments/whales/members", headers=sample.headers())
    assert found["members_scored"] == 2349
    assert [s["segment"] for s in found["segments"]] == list(SEGMENTS)
    assert sum(s["members"] for s in found["segments"]) == 2349
    assert sum(s["share"] for s in found["segments"]) == pytest.approx(1.0)
    at_risk = next(s for s in found["segments"] if s["segment"] == "at_risk")
    assert at_risk["members"] > 0
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert 0 < len(items) <= 5
    assert all(i["segment"] == "at_risk" for i in items)
    clvs = [i["clv"] for i in items]
    assert clvs == sorted(clvs, reverse=True)
    assert items[0]["external_id"]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "segment_not_found"


def test_segments_need_a_kept_model(api: Api) -> None:
    response = api.client.get("/v1/analytics/segments", headers=api.headers())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("as_of", ["0", "1998", "yesterday"])
def test_an_as_of_that_is_not_a_day_is_refused(api: Api, as_of: str) -> None:
    """FastAPI would read 0 as 1970-01-01 (a Unix time): a day is YYYY-MM-DD or nothing."""
    member = api.client.post(
        "/v1/members", json={"external_id": "someone"}, headers=api.headers()
    ).json()["id"]
    response = api.client.get(
        f"/v1/members/{member}/insights", params={"as_of": as_of}, headers=api.headers()
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_date"
