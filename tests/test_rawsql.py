"""The hot paths' SQL helpers on both databases: a list given as one JSON parameter matches
exactly its values, whatever characters they hold, and a binary COPY stores what a text COPY
and an INSERT store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from punchcard import rawsql
from punchcard.db import Database
from punchcard.rawsql import Raw

# Characters that quoting gets wrong: quotes, backslashes, braces and commas (a PostgreSQL
# array literal), JSON escapes, control characters, and text beyond the BMP.
AWKWARD = ['a"b', "a\\b", "{x,y}", "a,b", "NULL", "", " lead", "tab\there", "é", "🎉", "\x01"]
texts = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=12,
)


@contextmanager
def _scratch(db: Database, name: str, columns: str) -> Iterator[Connection]:
    """A connection with a temporary table of its own, rolled back at the end: the tests'
    shared database keeps exactly the schema the migrations made."""
    with db.engine.connect() as conn:
        conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            conn.commit()


def _matched(db: Database, stored: list[str], asked: list[str]) -> list[str]:
    with _scratch(db, "rawsql_words", "word VARCHAR(40) NOT NULL") as conn:
        if stored:
            conn.execute(
                text("INSERT INTO rawsql_words (word) VALUES (:w)"), [{"w": w} for w in stored]
            )
        raw = Raw(connection=conn)
        cursor = raw.cursor(
            f"SELECT word FROM rawsql_words WHERE {raw.any_of('word')}", (raw.listed(asked),)
        )
        return sorted(r[0] for r in cursor.fetchall())


def test_a_listed_parameter_matches_exactly_its_values(db: Database) -> None:
    stored = [*AWKWARD, "other", "a", "b"]
    assert _matched(db, stored, AWKWARD) == sorted(AWKWARD)
    assert _matched(db, stored, []) == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored=st.lists(texts, max_size=8, unique=True), asked=st.lists(texts, max_size=8))
def test_any_text_is_matched_by_a_listed_parameter(
    db: Database, stored: list[str], asked: list[str]
) -> None:
    assert _matched(db, stored, asked) == sorted(set(stored) & set(asked))


def test_a_listed_parameter_of_integers_matches_an_integer_column(db: Database) -> None:
    with _scratch(db, "rawsql_numbers", "n BIGINT NOT NULL") as conn:
        conn.execute(
            text("INSERT INTO rawsql_numbers (n) VALUES (1), (2), (3), (9007199254740993)")
        )
        raw = Raw(connection=conn)
        cursor = raw.cursor(
            f"SELECT n FROM rawsql_numbers WHERE {raw.any_of('n', 'bigint')}",
            (raw.listed([3, 9007199254740993, 7]),),
        )
        assert sorted(r[0] for r in cursor.fetchall()) == [3, 9007199254740993]


ROW_COLUMNS = ("id", "amount", "total", "label", "doc", "at", "missing")


def _rows(n: int) -> list[tuple[Any, ...]]:
    return [
        (
            i,
            -i * 1_000_000_007,
            Decimal("12.30") + i,
            AWKWARD[i % len(AWKWARD)],
            '{"a": "\\\\ \\"q\\"", "n": [1, 2]}',
            datetime(1997, 1, 1 + i % 28, 12, 30, 15, 250, tzinfo=UTC),
            None,
        )
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("exact", [True, False], ids=["binary", "text"])
@pytest.mark.parametrize("n", [3, rawsql.COPY_THRESHOLD + 5], ids=["insert", "copy"])
def test_bulk_rows_are_stored_as_given(db: Database, exact: bool, n: int) -> None:
    columns = (
        "id BIGINT PRIMARY KEY, amount BIGINT NOT NULL, total NUMERIC(14, 2) NOT NULL, "
        "label VARCHAR(40) NOT NULL, doc TEXT NOT NULL, at TIMESTAMP NOT NULL, missing TEXT"
    )
    rows = _rows(n)
    with _scratch(db, "rawsql_rows", columns) as conn:
        raw = Raw(connection=conn)
        given_rows = [(*r[:2], raw.money(r[2]), *r[3:5], raw.moment(r[5]), r[6]) for r in rows]
        raw.insert("rawsql_rows", ROW_COLUMNS, given_rows, exact=exact)
        stored = conn.execute(text("SELECT * FROM rawsql_rows ORDER BY id")).all()
        back = [
            (r[0], r[1], Decimal(str(r[2])), r[3], r[4], raw.read_moment(r[5]), r[6])
            for r in stored
        ]
    assert back == rows


def test_ids_drawn_for_a_table_are_fresh_and_distinct(db: Database) -> None:
    with db.engine.connect() as conn:
        raw = Raw(connection=conn)
        first = raw.drawn_ids(raw.ids_cursor("events", 5), 5)
        second = raw.drawn_ids(raw.ids_cursor("events", 5), 5)
        conn.rollback()
    assert len(set(first)) == 5
    if db.is_sqlite:  # from the largest id, under the writer's lock: the same until written
        assert first == second == list(range(first[0], first[0] + 5))
    else:  # the sequence never hands out a number twice
        assert not set(first) & set(second)


def test_the_sequence_is_looked_up_once_per_draw_not_once_per_id(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite continues from the largest id: no sequence")
    with db.engine.connect() as conn:
        sequence = rawsql.serial_sequence("events")
        sql = f"EXPLAIN VERBOSE SELECT nextval({sequence}) FROM generate_series(1, 3)"
        plan = conn.exec_driver_sql(sql).all()
        conn.rollback()
    text_plan = "\n".join(r[0] for r in plan)
    assert "InitPlan" in text_plan, text_plan
    assert "Output: nextval($0)" in text_plan, text_plan
