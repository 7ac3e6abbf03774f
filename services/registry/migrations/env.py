"""Alembic environment: the connection we are handed, or the one REGISTRY_DATABASE_URL names."""

from services.registry.database import make_engine
from services.registry.migrate import MIGRATIONS
from services.registry.models import Base
from services.registry.settings import DatabaseSettings

MIGRATIONS.run_env(Base.metadata, lambda: make_engine(DatabaseSettings().database_url))
