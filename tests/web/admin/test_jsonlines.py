"""Finding the line of a JSON path in the text an admin typed, for errors shown in place."""

from __future__ import annotations

import json

import pytest

from punchcard.web.admin.jsonlines import line_of

TEXT = json.dumps(
    {"rules": [{"id": "a", "effect": {"type": "x", "points": 0}}, {"id": "b", "effect": {}}]},
    indent=2,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("rules[0].effect.points", '"points": 0'),
        ("rules.0.effect.type", '"type": "x"'),
        ("rules[1].id", '"id": "b"'),
        ("rules[1].effect.points", '"effect": {}'),  # missing: its nearest parent
        ("rules[7]", '"rules": ['),
        ("$", "{"),
    ],
)
def test_the_line_of_a_path(path: str, expected: str) -> None:
    lines = TEXT.splitlines()
    assert expected in lines[line_of(TEXT, path) - 1]  # type: ignore[operator]


def test_compact_text_is_all_line_one() -> None:
    assert line_of('{"a": [1, {"b": 2}]}', "a[1].b") == 1
