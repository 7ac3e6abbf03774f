"""Review app settings, read from ``REVIEW_*`` environment variables (the Rasa token from ``RASA_API_TOKEN``).

Every default points into this checkout, so ``python -m services.review serve`` works after ``make run``
without any configuration. Secrets are never defaulted to anything but empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import TimeZoneName

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = REPO_ROOT / ".run"


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", populate_by_name=True)

    database_url: str = f"sqlite:///{RUN_DIR / 'review.db'}"
    # Read only: the app never writes to Rasa's tracker store.
    tracker_store_url: str = f"sqlite:///{RUN_DIR / 'tracker.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_api_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("RASA_API_TOKEN", "rasa_api_token")
    )
    rasa_timeout_seconds: float = Field(default=10.0, gt=0)
    models_dir: Path = REPO_ROOT / "models"
    data_dir: Path = REPO_ROOT / "data"
    domain_dir: Path = REPO_ROOT / "rasa_project" / "domain"
    embedding_model_dir: Path = REPO_ROOT / "models" / "embedding" / "multilingual-e5-small"

    # Browsers drop Secure cookies on plain http, so this is off for localhost and on behind TLS.
    secure_cookies: bool = False
    session_lifetime_seconds: int = Field(default=8 * 3600, ge=60)

    # Failed sign-ins: this many within the window (per username, and per client address) and
    # further attempts are refused until the oldest failure leaves the window.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    login_failure_delay_seconds: float = Field(default=0.5, ge=0)

    # Days in /stats and the date filters are local days; Indonesia has no daylight saving time.
    timezone: TimeZoneName = "Asia/Jakarta"
    page_size: int = Field(default=50, ge=1, le=500)
    sync_on_start: bool = True
    # List pages sync the tracker store first, at most this often.
    sync_min_interval_seconds: float = Field(default=5.0, ge=0)
    sync_batch_size: int = Field(default=20_000, ge=1)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def utc_offset(self, at: datetime) -> timedelta:
        """The zone's offset at ``at``: SQL groups days by a fixed offset (exact for WIB/WITA/WIT)."""
        offset = at.astimezone(self.zone).utcoffset()
        return offset if offset is not None else timedelta(0)

    @property
    def registry_file(self) -> Path:
        return self.models_dir / "registry.json"
