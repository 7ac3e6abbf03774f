"""The review database's migrations (services/review/migrations), run by the app and every command."""

from __future__ import annotations

from pathlib import Path

from services.common.migrate import Migrations

# Any fixed number, not the registry's nor the indexer's: review instances take turns to migrate.
MIGRATIONS = Migrations(Path(__file__).with_name("alembic.ini"), lock_id=7_451_120_002)
upgrade_to_head = MIGRATIONS.upgrade_to_head
