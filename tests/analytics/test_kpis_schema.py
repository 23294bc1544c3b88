"""The analytics migration builds exactly the tables and indexes models/analytics.py declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from punchcard.db import Database
from punchcard.models import Base

TABLES = {"analytics_points_daily", "analytics_rollups", "analytics_snapshots"}
INDEXES = {
    "ix_ledger_transactions_created",
    "ix_redemptions_used_order",
    "ix_events_created",
    "ix_members_created",
    "ix_redemptions_program_created",
}


def _mine(diff: object) -> bool:
    text = repr(diff)
    return any(f"'{t}'" in text or f"table=<{t}>" in text for t in TABLES) or any(
        name in text for name in INDEXES
    )


def _postgres_only(diff: object) -> bool:
    return any(name in repr(diff) for name in INDEXES - {"ix_redemptions_used_order"})


def test_the_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _mine(d)]
        if db.is_sqlite:  # the KPI scans' indexes are PostgreSQL's alone
            diffs = [d for d in diffs if not _postgres_only(d)]

    assert diffs == []
