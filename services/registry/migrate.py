"""The registry's migrations (services/registry/migrations), run by every command before it touches data."""

from __future__ import annotations

from pathlib import Path

from services.common.migrate import Migrations

# Any fixed number: PostgreSQL instances starting together take turns on this lock to migrate.
MIGRATIONS = Migrations(Path(__file__).with_name("alembic.ini"), lock_id=7_451_120_001)
alembic_config = MIGRATIONS.config
upgrade_to_head = MIGRATIONS.upgrade_to_head
current_revision = MIGRATIONS.current_revision
head_revision = MIGRATIONS.head_revision
