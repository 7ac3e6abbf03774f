"""Alembic environment: migrate the connection we are handed, or the one REGISTRY_DATABASE_URL names.

No logging configuration here: when the service migrates on start it must not reset its own logging.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from services.registry.database import make_engine
from services.registry.models import Base
from services.registry.settings import DatabaseSettings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(DatabaseSettings().database_url)
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
