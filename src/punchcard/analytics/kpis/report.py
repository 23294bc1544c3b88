"""`punchcard analytics report`: the KPI summary as a table, JSON or CSV.

JSON is the API's body, byte for byte the same model. CSV is one figure a row,
`section,key,value`, so a spreadsheet or `grep` reads it without knowing the nesting: list
sections name their row in the key (`by_channel,web.orders,3`; `retention,2026-01.m2,0.5`).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from punchcard.analytics.kpis import service
from punchcard.analytics.kpis.schemas import SummaryOut
from punchcard.db import Database
from punchcard.kit.clock import utcnow

OUTPUTS = ("table", "json", "csv")
# The field that names each row of a list section.
_ROW_KEYS = {
    "by_channel": "channel",
    "by_tier": "tier",
    "tier_mix": "tier",
    "campaigns": "rule_id",
    "rewards": "reward_id",
    "retention": "cohort",
}


def render(
    db: Database, *, program_id: int, start: date | None, end: date | None, output: str
) -> str:
    with db.reader() as session:
        found = service.summary(
            session, program_id=program_id, first=start, last=end, today=utcnow().date()
        )
    body = json.loads(found.model_dump_json(by_alias=True))
    if output == "json":
        return json.dumps(body, indent=2) + "\n"
    if output == "csv":
        return to_csv(body)
    return to_table(found, body)


def rows(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, key, value) for every figure of the summary."""
    result: list[tuple[str, str, str]] = []
    for section, value in body.items():
        if isinstance(value, dict):
            result += [(section, key, _text(v)) for key, v in value.items()]
        elif isinstance(value, list) and section in _ROW_KEYS:
            result += _list_rows(section, value)
        elif isinstance(value, list):
            result += [(section, str(i), _text(v)) for i, v in enumerate(value)]
        else:
            result.append(("summary", section, _text(value)))
    return result


def _list_rows(section: str, items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    name = _ROW_KEYS[section]
    result = []
    for item in items:
        label = "none" if item[name] is None else str(item[name])
        for key, value in item.items():
            if key == name:
                continue
            if isinstance(value, list):
                result += [(section, f"{label}.m{i}", _text(v)) for i, v in enumerate(value)]
            else:
                result.append((section, f"{label}.{key}", _text(value)))
    return result


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def to_csv(body: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows(rows(body))
    return out.getvalue()


def to_table(found: SummaryOut, body: dict[str, Any]) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, record=True)
    console.print(
        f"Program {found.program_id} KPIs, {found.from_} to {found.to} ({found.currency})"
    )
    table = Table("section", "figure", "value", show_lines=False)
    previous = None
    for section, key, value in rows(body):
        if section in ("summary",):
            continue
        table.add_row(section if section != previous else "", key, value or "-")
        previous = section
    console.print(table)
    return console.export_text()
