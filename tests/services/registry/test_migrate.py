from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from services.registry.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from services.registry.models import Base

TABLES = {
    "recipients",
    "doses",
    "appointments",
    "verification_failures",
    "audit_log",
    "code_challenges",
    "opt_outs",
    "correction_requests",
    "kipi_reports",
}


def test_database_is_at_head_and_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_again_changes_nothing(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()


def test_downgrade_and_upgrade_round_trip(engine: Engine) -> None:
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert TABLES.isdisjoint(inspect(engine).get_table_names())
    finally:
        upgrade_to_head(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
