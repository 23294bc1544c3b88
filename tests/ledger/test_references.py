"""`ledger verify` checks every reference of the journal, which carries no foreign keys
(migrations a7d2c9e4f613 on PostgreSQL, c3e8b1f5a2d7 on SQLite): a reference to a row that
does not exist, or to a row of another program or member, is reported with its table and
column."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BindParameter, Connection, bindparam, text
from sqlalchemy.orm import Session

from punchcard import migrate
from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger.references import REFERENCES, Reference
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.ledger.verify import verify
from punchcard.models.base import Base
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from tests.conftest import Api, ProgramFactory, downgrade
from tests.events.test_events_api import line, member_id_of, place, uid
from tests.ledger.helpers import credit, enrol, reverse, spend

MISSING = 2**40  # an id no row has
JOURNAL = sorted({ref.table.name for ref in REFERENCES})


@pytest.fixture
def ledger(api: Api, db: Database, clock: FixedClock, make_program: ProgramFactory) -> Api:
    """A program whose journal has a row for every reference: two members' orders, a spend,
    a reversal, a pending credit released by the ledger jobs; and another program."""
    program = api.program
    first, second = uid("ref"), uid("ref")
    place(api, first, line("a", 2, "10.00"))
    place(api, second, line("b", 1, "30.00"))
    member = member_id_of(api, first)
    spend(db, program, member, 5, clock())
    earned = credit(db, program, member, 40, clock())
    reverse(db, program, member, earned, clock(), points=10)
    credit(db, program, member, 7, clock(), pending_days=1)
    run_ledger_jobs(db, now=clock() + timedelta(days=2))
    other = make_program()
    credit(db, other, enrol(db, other, clock()), 3, clock())
    return api


def _violations(conn: Connection, program_id: int) -> list[str]:
    with Session(bind=conn) as session:
        return [f"{v.check}: {v.message}" for v in verify(session, program_id).violations]


def _journal() -> BindParameter[list[str]]:
    return bindparam("t", JOURNAL, expanding=True)


@contextmanager
def _changed(db: Database) -> Iterator[Connection]:
    """A transaction that may break the journal: its append-only triggers dropped.
    Everything is rolled back."""
    with db.engine.connect() as conn:
        conn.begin()
        if db.is_sqlite:
            names = (
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :t"
            )
            drop = "DROP TRIGGER {name}"
        else:
            names = (
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text IN :t"
            )
            drop = "DROP TRIGGER {name} ON {table}"
        query = text(names).bindparams(_journal())
        for name, table in conn.execute(query).all():
            conn.execute(text(drop.format(name=name, table=table)))
        try:
            yield conn
        finally:
            conn.rollback()


def _row(conn: Connection, ref: Reference, program: ProgramSettings) -> tuple[object, object]:
    """One row of the program that makes this reference: its key and the id it names."""
    key = next(iter(ref.table.primary_key.columns)).name
    found = conn.execute(
        text(
            f"SELECT {key}, {ref.column} FROM {ref.table.name} "
            f"WHERE program_id = :p AND {ref.column} IS NOT NULL ORDER BY {key} LIMIT 1"
        ),
        {"p": program.id},
    ).first()
    assert found is not None, f"the fixture wrote no {ref.table.name} with a {ref.column}"
    return found[0], found[1]


def _elsewhere(conn: Connection, ref: Reference, program: ProgramSettings, named: object) -> int:
    """An existing row of the parent table that belongs to another member (or program)."""
    if ref.parent.name == "programs":
        where = "id <> :named"
    elif ref.parent.name == "members":
        where = "program_id <> :p"
    else:
        where = "program_id = :p AND member_id <> (SELECT member_id FROM {p} WHERE id = :named)"
    found = conn.execute(
        text(f"SELECT min(id) FROM {ref.parent.name} WHERE " + where.format(p=ref.parent.name)),
        {"p": program.id, "named": named},
    ).scalar_one()
    assert found is not None
    return int(found)


def _point(conn: Connection, ref: Reference, key: object, target: int) -> None:
    key_column = next(iter(ref.table.primary_key.columns)).name
    conn.execute(
        text(f"UPDATE {ref.table.name} SET {ref.column} = :v WHERE {key_column} = :k"),
        {"v": target, "k": key},
    )


def test_a_clean_journal_has_no_broken_reference(ledger: Api, db: Database) -> None:
    with db.engine.connect() as conn:
        assert _violations(conn, ledger.program.id) == []


# a program_id naming another, existing program is a question of tenancy, which the row's
# member reference answers (its member belongs to the first program): no "elsewhere" case
CASES = [
    pytest.param(ref, kind, id=f"{kind}-{ref.table.name}.{ref.column}")
    for ref in REFERENCES
    for kind in ("missing", "elsewhere")
    if kind == "missing" or ref.column != "program_id"
]


@pytest.mark.parametrize(("ref", "kind"), CASES)
def test_a_broken_reference_is_reported(
    ledger: Api, db: Database, ref: Reference, kind: str
) -> None:
    """A row whose program does not exist is found by verifying that program's id."""
    program = ledger.program
    with _changed(db) as conn:
        key, named = _row(conn, ref, program)
        target = MISSING if kind == "missing" else _elsewhere(conn, ref, program, named)
        _point(conn, ref, key, target)
        scope = target if ref.column == "program_id" else program.id
        found = [v for v in _violations(conn, scope) if v.startswith("references:")]
    assert any(f"of {ref.table.name} name a {ref.column} " in v for v in found), found
    assert any(f"(first: {key})" in v or f"(first: {key}," in v for v in found), found


def test_the_journal_has_no_foreign_keys(db: Database, backend: str) -> None:
    """What `ledger verify` checks instead; the append-only triggers stay; and on PostgreSQL
    the models say the same as the schema (SQLite keeps its older key order)."""
    assert _foreign_keys(db) == 0
    assert _triggers(db) == (6 if backend == "sqlite" else 3)
    if backend != "postgresql":
        return
    with db.engine.connect() as conn:
        partial = conn.execute(
            text("SELECT pg_get_indexdef('ix_ledger_transactions_reverses_id'::regclass)")
        ).scalar_one()
        context = MigrationContext.configure(conn)
        diffs = [
            d
            for d in compare_metadata(context, Base.metadata)
            if any(f"'{t}'" in repr(d) or f"table=<{t}>" in repr(d) for t in JOURNAL)
        ]
    assert "WHERE (reverses_id IS NOT NULL)" in partial
    assert diffs == []


BEFORE = "e5a9c3b7d1f4"  # the revision before the journal lost its foreign keys


def _foreign_keys(db: Database) -> int:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            return sum(
                len(conn.execute(text(f"PRAGMA foreign_key_list({t})")).all()) for t in JOURNAL
            )
        query = text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text IN :t"
        ).bindparams(_journal())
        return int(conn.execute(query).scalar_one())


def _triggers(db: Database) -> int:
    """The journal's append-only triggers (SQLite has one per table and action)."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :t"
        else:
            query = (
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text IN :t"
            )
        return int(conn.execute(text(query).bindparams(_journal())).scalar_one())


def test_a_database_with_a_journal_upgrades_and_downgrades(
    unmigrated_db: Database, backend: str, clock: FixedClock
) -> None:
    """From the revision before, with a journal in place, and back: the keys go (SQLite
    rebuilds the tables, keeping their rows and triggers), and come back checked against the
    rows written meanwhile."""
    db = unmigrated_db
    migrate.upgrade(db.engine, BEFORE)
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="before", now=clock())
    member = enrol(db, program, clock())
    credit(db, program, member, 50, clock())
    before, triggers = _foreign_keys(db), _triggers(db)
    migrate.upgrade(db.engine)
    after = _foreign_keys(db)
    assert _triggers(db) == triggers
    with db.reader() as session:
        assert verify(session, program.id).ok  # the rows written before are all there
    earned = credit(db, program, member, 20, clock())
    reverse(db, program, member, earned, clock())
    spend(db, program, member, 30, clock())
    downgrade(db, BEFORE)
    assert migrate.current_revision(db.engine) == BEFORE
    assert (before, after) == (28, 0)
    assert _foreign_keys(db) == before
    with db.reader() as session:
        assert verify(session, program.id).ok
