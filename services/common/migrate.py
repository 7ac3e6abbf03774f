"""Alembic for both services: migrate to head on start, one instance at a time, SQLite included.

Each service has its own scripts (``services/<name>/migrations``) and advisory lock number; the
way they run is the same. On SQLite foreign keys are off while migrating: batch mode rebuilds a
table by copying it and dropping the old one, and with foreign keys on that drop would cascade to
the rows that refer to it (the review app's sessions, say). The pragma only works outside a
transaction, so it is set on the driver's connection before ours begins, and set back after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text


@contextmanager
def migration_connection(engine: Engine, lock_id: int) -> Iterator[Connection]:
    """A connection in a transaction, holding the service's migration lock (PostgreSQL) or with
    foreign keys off (SQLite)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
                yield connection
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


@dataclass(frozen=True)
class Migrations:
    """One service's migration scripts (its ``alembic.ini``) and the lock its instances take turns on."""

    ini: Path
    lock_id: int  # any fixed number, different per service

    def config(self) -> Config:
        return Config(str(self.ini))

    def upgrade_to_head(self, engine: Engine) -> None:
        """Migrate to head; safe to call from several processes at once on PostgreSQL."""
        config = self.config()
        with migration_connection(engine, self.lock_id) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.config()).get_current_head()

    @staticmethod
    def current_revision(engine: Engine) -> str | None:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def run_env(self, metadata: MetaData, make_engine: Callable[[], Engine]) -> None:
        """The body of a service's ``migrations/env.py``: migrate the connection ``upgrade_to_head``
        hands over, or (``alembic`` by hand) one from ``make_engine``.

        No logging configuration here: when a service migrates on start it must not reset its logging.
        """
        if context.is_offline_mode():
            raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
        connection = context.config.attributes.get("connection")
        if connection is not None:
            _run(connection, metadata)
            return
        engine = make_engine()
        try:
            with migration_connection(engine, self.lock_id) as own_connection:
                _run(own_connection, metadata)
        finally:
            engine.dispose()


def _run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
