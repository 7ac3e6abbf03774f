"""Registry settings, read from ``REGISTRY_*`` environment variables.

Two levels: the data commands (migrate, seed-demo, import-csv) only need the database, while the
lookup API also needs its secrets and has no defaults for them, so it cannot start half-configured.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import TimeZoneName

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / '.run' / 'registry.db'}"
MIN_SECRET_LENGTH = 16


class DatabaseSettings(BaseSettings):
    """Where the registry lives: a SQLite file by default, PostgreSQL in production."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: TimeZoneName = "Asia/Jakarta"  # decides what "today" is for upcoming appointments
    migrate_on_start: bool = True

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()


class RegistrySettings(DatabaseSettings):
    """Everything the lookup API needs."""

    service_token: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    audit_hash_key: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    service_caller: str = Field(default="action-server", min_length=1, max_length=64)
    lockout_max_failures: int = Field(default=5, ge=1)
    lockout_window_seconds: int = Field(default=3600, ge=1)
    lockout_seconds: int = Field(default=3600, ge=1)


def describe_settings_error(error: ValidationError) -> str:
    """The problems as variable names and reasons, without the values (they may be secrets)."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        lines.append(f"REGISTRY_{field.upper()}: {problem['msg']}")
    return "\n".join(lines)
