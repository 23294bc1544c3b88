"""Alembic environment: the URL comes from punchcard's own config, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from punchcard.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `punchcard db upgrade`")
_run(connection)
