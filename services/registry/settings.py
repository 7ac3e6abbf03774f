"""Registry settings, read from ``REGISTRY_*`` environment variables.

Two levels: the data commands (migrate, seed-demo, import-csv) only need the database, while the
lookup API also needs its secrets and has no defaults for them, so it cannot start half-configured.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rasa_project.channels.settings import DEFAULT_GRAPH_API_URL
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


def _shared(name: str) -> AliasChoices:
    """``REGISTRY_<NAME>``, else the ``WHATSAPP_<NAME>`` the Rasa channel reads: one secret, one place."""
    return AliasChoices(f"REGISTRY_{name}", f"WHATSAPP_{name}")


class RegistrySettings(DatabaseSettings):
    """Everything the lookup API needs."""

    # Empty counts as unset: the supervisor passes every variable of the Rasa channel, empty when not given.
    model_config = SettingsConfigDict(
        env_prefix="REGISTRY_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    service_token: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    audit_hash_key: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    service_caller: str = Field(default="action-server", min_length=1, max_length=64)
    lockout_max_failures: int = Field(default=5, ge=1)
    lockout_window_seconds: int = Field(default=3600, ge=1)
    lockout_seconds: int = Field(default=3600, ge=1)
    # REST is a test channel: it reaches only the demo registry unless this says otherwise.
    allow_rest_lookups: bool = False
    # The second factor on WhatsApp: the sender id is a keyed hash of the number (core/sender_identity.py);
    # without the key no number can be matched, so every WhatsApp lookup needs a code.
    sender_hash_key: SecretStr | None = Field(default=None, validation_alias=_shared("SENDER_HASH_KEY"))
    graph_api_url: str = Field(default=DEFAULT_GRAPH_API_URL, validation_alias=_shared("GRAPH_API_URL"))
    access_token: SecretStr | None = Field(default=None, validation_alias=_shared("ACCESS_TOKEN"))
    phone_number_id: str = Field(default="", validation_alias=_shared("PHONE_NUMBER_ID"))
    graph_timeout_seconds: float = Field(default=5.0, gt=0)
    # An approved WhatsApp authentication template (copy-code button) in Indonesian.
    code_template_name: str = Field(default="kode_verifikasi", min_length=1)
    code_template_language: str = Field(default="id", min_length=2)
    code_ttl_seconds: int = Field(default=300, ge=30)
    code_max_attempts: int = Field(default=5, ge=1)
    # Codes sent to one number within the lockout window: more are refused (no flooding a phone).
    codes_per_number: int = Field(default=5, ge=1)
    # The review app's bearer for the staff routes (/v1/staff/...); unset, they answer 503.
    staff_token: SecretStr | None = Field(default=None, min_length=MIN_SECRET_LENGTH)
    # How long a record_token from a lookup lets the conversation ask for a correction or link a report.
    record_token_minutes: int = Field(default=30, ge=1, le=24 * 60)

    def whatsapp_ready(self) -> bool:
        """Whether a code can be sent at all (Graph API access configured)."""
        return bool(self.access_token and self.access_token.get_secret_value() and self.phone_number_id)


def describe_settings_error(error: ValidationError) -> str:
    """The problems as variable names and reasons, without the values (they may be secrets)."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        lines.append(f"REGISTRY_{field.upper()}: {problem['msg']}")
    return "\n".join(lines)
