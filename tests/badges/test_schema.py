"""The badges and streaks migration builds exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from punchcard.db import Database
from punchcard.models import Base

TABLES = {"badges", "member_badges", "streaks", "member_streaks", "streak_bonuses"}


def _mine(diff: object) -> bool:
    """Whether a difference alembic reports concerns one of these tables."""
    text = repr(diff)
    return any(f"'{t}'" in text or f"table=<{t}>" in text for t in TABLES)


def test_the_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _mine(d)]

    assert diffs == []
