"""The earn path's lookups stay lookups whatever the planner believes about program sizes.

Regression guard: the unique keys used to lead with `program_id`. When the statistics knew one
program (or none, on a fresh database), the planner took `program_id = $1` of a new program for
a handful of rows and read every row of the program to find a batch's members, events and
orders: a batch of 1,000 events on a new program next to an established one took 5 s, and
each batch on a fresh database took longer than the last. Now each key leads with the value
looked up, and no key can serve a scan of the whole program.
"""

from __future__ import annotations

import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, text
from sqlalchemy.orm import Session

from punchcard import migrate
from punchcard.db import Database, session_scope
from punchcard.events import batchstate, fastpath
from punchcard.kit.clock import FixedClock
from punchcard.models import Base
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import Raw
from punchcard.rules import service as rules
from tests.conftest import downgrade
from tests.events.test_events_api import event, line, order_data
from tests.events.test_fast_paths import _inputs

# The shapes of batchstate.read's statements. The driver sends its first executions with the
# values inlined into the plan (custom plans): the new program's id, which the statistics have
# never seen, and a batch's worth of keys.
LOOKUPS = {
    "lock": batchstate.MEMBERS_SQL.replace("= ?", "= :p")
    + "m.external_id = ANY(:keys) ORDER BY b.member_id FOR UPDATE OF b",
    "stored": "SELECT source_id, result FROM events WHERE program_id = :p "
    "AND source_id = ANY(:keys)",
    "placed": "SELECT order_id FROM orders WHERE program_id = :p AND order_id = ANY(:keys)",
    "first": "SELECT m.id, (SELECT min(o.placed_at) FROM orders o WHERE o.program_id = "
    "m.program_id AND o.member_id = m.id) FROM members m WHERE m.program_id = :p "
    "AND m.external_id = ANY(:keys)",
    # tiers.repository's stored tiers, read with the lock for a program with tiers
    "held": "SELECT t.member_id, t.tier, t.since, t.valid_until, t.granted FROM member_tiers t "
    "JOIN members m ON m.id = t.member_id AND m.program_id = t.program_id "
    "WHERE t.program_id = :p AND m.external_id = ANY(:keys)",
}
TABLES = ("members", "balances", "events", "orders", "member_tiers")
BEFORE = "c4f1a7e9b3d2"  # the revision before the keys were reordered
KEYS = [f"c{i}" for i in range(0, 4000, 4)]  # 1,000 keys, as in a full batch


@pytest.fixture
def established(fresh_db: Database, clock: FixedClock) -> tuple[Database, int, int]:
    """A database whose statistics know one program with 4,000 members, their orders and their
    tiers, and a second program that is new."""
    with session_scope(fresh_db.writer) as session:
        old = programs.create_program(session, name="established", now=clock())
        new = programs.create_program(session, name="new", now=clock())
    _earn(fresh_db, old, clock, [f"c{i}" for i in range(4000)])
    with session_scope(fresh_db.writer) as session:
        session.execute(
            text(
                "INSERT INTO member_tiers (program_id, member_id, tier, since, valid_until, "
                "granted, updated_at) SELECT program_id, id, 'Gold', :at, NULL, false, :at "
                "FROM members WHERE program_id = :p"
            ),
            {"p": old.id, "at": clock().replace(tzinfo=None)},
        )
    with fresh_db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    return fresh_db, old.id, new.id


def _earn(db: Database, program: ProgramSettings, clock: FixedClock, customers: list[str]) -> None:
    data = order_data(line("a", 1, "5.00"))
    batch = uuid.uuid4().hex[:6]
    bodies = [event("order.placed", {**data, "order_id": f"o-{batch}-{i}"}, customer=c)
              for i, c in enumerate(customers)]  # fmt: skip
    with session_scope(db.writer) as session:
        current = rules.in_force(session, program.id)
        for start in range(0, len(bodies), 1000):
            outcomes = fastpath.ingest_many(
                session,
                program=program,
                rules=current,
                events=_inputs(bodies[start : start + 1000]),
                now=clock(),
            )
            assert all(isinstance(o, dict) for o in outcomes), outcomes


def _plan(session: Session, name: str, program_id: int) -> str:
    rows = session.execute(text("EXPLAIN " + LOOKUPS[name]), {"p": program_id, "keys": KEYS})
    return "\n".join(r[0] for r in rows)


@pytest.fixture
def established_pg(backend: str, request: pytest.FixtureRequest) -> tuple[Database, int, int]:
    """`established`, on PostgreSQL only (skipped before it is built)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner (SQLite plans without statistics)")
    found: tuple[Database, int, int] = request.getfixturevalue("established")
    return found


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_a_new_programs_lookups_search_the_keys(
    established_pg: tuple[Database, int, int], name: str
) -> None:
    db, _, new_id = established_pg
    with db.reader() as session:
        plan = _plan(session, name, new_id)
    # No index is searched by the program alone: such a search was costed as a few rows
    # and walked every row of the program, however large. (A sequential scan of a small test
    # table is fine: its cost grows with the table, so the planner leaves it when it grows.)
    shown = re.sub(r"'\{[^}]*\}'", "'{...}'", plan)  # the 1,000 keys, left out
    assert not re.search(r"Index Cond: \(+program_id = ", plan), shown
    assert "Join Filter" not in plan, shown


def test_on_sqlite_a_batchs_members_are_searched_by_their_keys(
    fresh_db: Database, backend: str, clock: FixedClock
) -> None:
    """Without statistics (no ANALYZE has run), SQLite searches a batch's members by their
    external ids and then their balances, rather than reading every balance of the program
    and looking its member up (`batchstate.MEMBERS_SQL`)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's plans are checked above, with statistics")
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(session, name="unanalysed", now=clock())
    _earn(fresh_db, program, clock, [f"c{i}" for i in range(2000)])
    with fresh_db.reader() as session:
        raw = Raw(session)
        sql = batchstate.MEMBERS_SQL + raw.any_of("m.external_id") + " ORDER BY b.member_id"
        plan = [
            str(r[3])
            for r in session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, (program.id, raw.listed(KEYS[:10]))
            )
        ]
    assert plan[0].startswith("SEARCH m USING COVERING INDEX"), plan
    assert "(program_id=? AND external_id=?)" in plan[0], plan
    assert any(p.startswith("SEARCH b ") and "member_id=?" in p for p in plan), plan


def test_the_keys_lead_with_the_looked_up_value(fresh_db: Database, backend: str) -> None:
    """No index of the earn path's lookup tables starts with program_id, so none can be walked
    for a whole program in place of a lookup."""
    if backend != "postgresql":
        pytest.skip("index definitions as PostgreSQL reports them")
    with fresh_db.reader() as session:
        rows = session.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                f"WHERE indrelid::regclass::text IN {TABLES}"
            )
        ).all()
    leading = {name: re.search(r"\((\w+)", d).group(1) for name, d in rows}  # type: ignore[union-attr]
    assert "program_id" not in leading.values(), leading


def test_a_new_program_next_to_an_established_one_earns_correctly(
    established: tuple[Database, int, int], backend: str, clock: FixedClock
) -> None:
    """The same customer ids in both programs stay two members with their own balances."""
    db, old_id, new_id = established
    with db.reader() as session:
        new = programs.get_program(session, new_id)
    _earn(db, new, clock, ["c1", "c2", "c1"])
    with db.reader() as session:
        balances: dict[str, int] = dict(
            session.execute(
                text(
                    "SELECT m.external_id, b.available FROM balances b JOIN members m "
                    "ON m.id = b.member_id WHERE b.program_id = :p"
                ),
                {"p": new_id},
            ).all()
        )
        old_count = session.execute(
            text("SELECT count(*) FROM members WHERE program_id = :p"), {"p": old_id}
        ).scalar_one()
    assert balances == {"c1": 10, "c2": 5}
    assert old_count == 4000


def test_the_models_match_the_postgresql_schema(db: Database, backend: str) -> None:
    """The models describe PostgreSQL's keys (SQLite keeps the old order: see the migration)."""
    if backend != "postgresql":
        pytest.skip("the keys were reordered on PostgreSQL only")
    names = [f"'{t}'" for t in TABLES] + [f"table=<{t}>" for t in TABLES]
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [
            d for d in compare_metadata(context, Base.metadata) if any(n in repr(d) for n in names)
        ]
    assert diffs == []
    # Alembic compares neither primary keys nor the column order of unique keys: read them.
    with db.reader() as session:
        found = {
            name: definition.split(" USING ")[1].split(" ", 1)[1]
            for name, definition in session.execute(
                text(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                    f"FROM pg_index WHERE indrelid::regclass::text IN {TABLES}"
                )
            )
        }
    for table in TABLES:
        model = Base.metadata.tables[table]
        keys = [
            model.primary_key,
            *(c for c in model.constraints if isinstance(c, UniqueConstraint)),
        ]
        for key in keys:
            if key.name in found:
                columns = "(" + ", ".join(c.name for c in key.columns) + ")"
                assert found[str(key.name)] == columns, (key.name, found[str(key.name)])


def test_a_database_with_members_upgrades_and_downgrades(
    unmigrated_db: Database, backend: str, clock: FixedClock
) -> None:
    """From the revision before, with members, balances and orders in place: on SQLite (left
    alone: rebuilding members under enforced foreign keys would fail) and on PostgreSQL (the
    keys reordered), and back."""
    db = unmigrated_db
    migrate.upgrade(db.engine, BEFORE)
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="before", now=clock())
    _earn(db, program, clock, ["a", "b", "a"])
    migrate.upgrade(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    _earn(db, program, clock, ["a", "c"])
    downgrade(db, BEFORE)
    assert migrate.current_revision(db.engine) == BEFORE
    with db.reader() as session:
        count = session.execute(text("SELECT count(*) FROM members")).scalar_one()
        if backend == "postgresql":  # the keys as they were
            back = set(
                session.execute(
                    text(
                        "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                        "WHERE indrelid::regclass::text = 'members'"
                    )
                ).scalars()
            )
            assert any("(program_id, external_id)" in d for d in back), back
            assert any("(email, program_id)" in d for d in back), back
    assert count == 3
