"""The browser interfaces' migration builds exactly the tables and columns the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from punchcard.db import Database
from punchcard.models import Base

TABLES = {"admin_users", "login_codes", "outbox"}
COLUMNS = {"locale", "marketing_consent", "points_names", "sessions_valid_after", "browser"}


def _mine(diff: object) -> bool:
    text = repr(diff)
    return any(f"'{t}'" in text or f"table=<{t}>" in text for t in TABLES) or any(
        f"'{c}'" in text for c in COLUMNS
    )


def test_the_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _mine(d)]
    assert diffs == []
