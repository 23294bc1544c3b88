"""Schema upgrades through Alembic, and the check `serve` and every command make first.

Alembic and the migrations load only when a schema is to be changed or a revision looked up:
loading them takes about a third of a second, which every `punchcard` command on SQLite paid
just to learn that nothing was to be done. `HEAD` says what the newest migration is without
loading them; `tests/cli/test_cli.py` keeps it equal to what Alembic finds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# In a wheel the migrations ship inside the package; in a checkout they sit at the top.
_PACKAGED = Path(__file__).resolve().parent / "migrations"
MIGRATIONS = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2] / "migrations"
# The revision of the newest file in migrations/versions: change it with each new migration.
HEAD = "e1c6a4b8d2f9"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str | None:
    """The newest revision as Alembic finds it among the migration files."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet). One revision only: the history
    has no branches."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == HEAD


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for Alembic. On SQLite the foreign keys are not enforced
    on it: a migration that rebuilds a table (SQLite's only way to change its keys) drops the
    old one, which under enforced keys would first delete, or refuse to delete, the rows of
    every table that refers to it. The pragma works only outside a transaction."""
    with engine.connect() as conn:
        driver: Any = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with _migrating(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with _migrating(engine) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def ensure_current(engine: Engine) -> None:
    """Upgrade to the newest revision unless the database is there already."""
    if not is_up_to_date(engine):
        upgrade(engine)


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new migration from the difference between models and schema."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)
