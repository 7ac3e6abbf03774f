"""Bring a database to the newest schema; run by every command before it touches data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
# Any fixed number: PostgreSQL instances starting together take turns on this lock to migrate.
_MIGRATION_LOCK_ID = 7_451_120_001


def alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


def upgrade_to_head(engine: Engine) -> None:
    """Migrate to head; safe to call from several processes at once on PostgreSQL."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
