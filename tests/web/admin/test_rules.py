"""The rules editor: an invalid rule set is shown with its problems in place (path, text kept
as typed, 400) and saves nothing; a valid one saves a new version; the dry run awards what
the rule engine would, for unsaved rules, and writes nothing."""

from __future__ import annotations

import json
import re
from html import unescape

from sqlalchemy import func, select

from punchcard.models import LedgerTransaction
from punchcard.rules import service as rules
from tests.web.admin.conftest import Console

VALID = {
    "rules": [
        {"id": "base", "events": ["order.placed"],
         "effect": {"type": "per_currency_unit", "points": 2}},
        {"id": "weekend", "events": ["order.placed"], "conditions": {"days_of_week": ["sat"]},
         "effect": {"type": "fixed", "points": 50}},
    ]
}  # fmt: skip
EVENT = {
    "type": "order.placed",
    "occurred_at": "2026-11-23T10:00:00Z",  # a Monday
    "channel": "web",
    "data": {"order_id": "o-1", "currency": "USD", "total": "42.50"},
}


def _version(console: Console) -> int:
    with console.db.reader() as session:
        return rules.in_force(session, console.program.id).version


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea id="f-{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return unescape(found.group(1))


def test_the_editor_shows_the_rules_in_force(console: Console) -> None:
    page = console.get(f"{console.base}/rules")
    assert page.status_code == 200
    assert json.loads(_textarea(page.text, "rules"))["rules"][0]["id"] == "base"


def test_an_invalid_rule_set_is_shown_in_place_and_not_saved(console: Console) -> None:
    before = _version(console)
    rule = {"id": "Bad Id", "events": ["order.placed"], "effect": {"type": "fixed", "points": 0}}
    broken = json.dumps({"rules": [rule]}, indent=1)
    response = console.post(f"{console.base}/rules", {"rules": broken, "event": "{}"})
    assert response.status_code == 400
    assert _textarea(response.text, "rules") == broken  # kept as typed
    errors = re.search(r'id="e-rules".*?</div>', response.text, re.S)
    assert errors, "no error beside the field"
    assert "rules[0].id" in errors.group(0)
    assert "rules[0].effect.points" in errors.group(0)
    points_line = next(i for i, t in enumerate(broken.splitlines(), 1) if '"points": 0' in t)
    assert f"line {points_line} <code>rules[0].effect.points</code>" in errors.group(0)
    assert 'aria-invalid="true"' in response.text
    assert _version(console) == before


def test_a_json_syntax_error_names_its_line(console: Console) -> None:
    text = '{\n  "rules": [\n    {"id": "x",}\n  ]\n}'
    response = console.post(f"{console.base}/rules", {"rules": text, "event": "{}"})
    assert response.status_code == 400
    assert "line 3" in response.text
    assert _textarea(response.text, "rules") == text


def test_a_valid_rule_set_saves_a_new_version(console: Console) -> None:
    before = _version(console)
    response = console.post(f"{console.base}/rules", {"rules": json.dumps(VALID), "event": "{}"})
    assert response.status_code == 303
    assert _version(console) == before + 1
    with console.db.reader() as session:
        assert rules.in_force(session, console.program.id).body == VALID
    shown = console.get(response.headers["location"])
    assert "Saved." in shown.text


def _awarded(html: str) -> list[str]:
    return re.findall(r'class="num award-points">(\d+)<', html)


def test_the_dry_run_awards_what_the_engine_would_and_writes_nothing(console: Console) -> None:
    before = _version(console)
    with console.db.reader() as session:
        transactions = session.execute(select(func.count()).select_from(LedgerTransaction)).scalar()
    response = console.post(
        f"{console.base}/rules/dry-run",
        {"rules": json.dumps(VALID), "event": json.dumps(EVENT)},
        page=f"{console.base}/rules",
    )
    assert response.status_code == 200, response.text
    assert "Dry run: 85 points" in response.text  # 2 per unit of 42.50; nothing on a Monday
    assert _awarded(response.text) == ["85"]
    assert "weekend" in response.text
    assert "condition days_of_week" in response.text
    saturday = {**EVENT, "occurred_at": "2026-11-28T10:00:00Z"}
    again = console.post(
        f"{console.base}/rules/dry-run",
        {"rules": json.dumps(VALID), "event": json.dumps(saturday)},
        page=f"{console.base}/rules",
    )
    assert _awarded(again.text) == ["85", "50"]
    assert _version(console) == before
    with console.db.reader() as session:
        assert session.execute(select(func.count()).select_from(LedgerTransaction)).scalar() == (
            transactions
        )


def test_a_bad_sample_event_is_shown_in_place(console: Console) -> None:
    bad = {**EVENT, "data": {"order_id": "o-1", "currency": "usd", "total": "x"}}
    response = console.post(
        f"{console.base}/rules/dry-run",
        {"rules": json.dumps(VALID), "event": json.dumps(bad)},
        page=f"{console.base}/rules",
    )
    assert response.status_code == 400
    errors = re.search(r'id="e-event".*?</div>', response.text, re.S)
    assert errors
    assert "data.currency" in errors.group(0)
    assert "data.total" in errors.group(0)
