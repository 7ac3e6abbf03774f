"""Review app settings, read from ``REVIEW_*`` environment variables (the Rasa token from ``RASA_API_TOKEN``).

Every default points into this checkout, so ``python -m services.review serve`` works after ``make run``
without any configuration. Secrets are never defaulted to anything but empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.ports import RASA_PORT, REGISTRY_PORT
from rasa_project.content import CONTENT_DIR_ENV, DEFAULT_CONTENT_DIR
from services.common.settings import TimeZoneName
from services.review.proxy import ClientHeader

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = REPO_ROOT / ".run"
VENVS_DIR = REPO_ROOT / ".venvs"  # `make setup`'s two environments
# the actions env's Python, as training/settings.py names it (one variable for both readers)
ACTIONS_PYTHON_ENV = "TANYAVAKSIN_ACTIONS_PYTHON"


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", populate_by_name=True)

    database_url: str = f"sqlite:///{RUN_DIR / 'review.db'}"
    # Read only: the app never writes to Rasa's tracker store.
    tracker_store_url: str = f"sqlite:///{RUN_DIR / 'tracker.db'}"
    rasa_url: str = f"http://127.0.0.1:{RASA_PORT}"
    rasa_api_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("RASA_API_TOKEN", "rasa_api_token")
    )
    rasa_timeout_seconds: float = Field(default=10.0, gt=0)
    # The registry's staff API (campaigns, correction requests, KIPI reports, opt-outs): the same
    # address the action server uses and the staff token the registry checks (one variable each).
    # Without the token those pages say so instead of calling the registry.
    registry_url: str = Field(
        default=f"http://127.0.0.1:{REGISTRY_PORT}",
        validation_alias=AliasChoices("REGISTRY_URL", "registry_url"),
    )
    registry_staff_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("REGISTRY_STAFF_TOKEN", "registry_staff_token")
    )
    registry_timeout_seconds: float = Field(default=10.0, gt=0)
    models_dir: Path = REPO_ROOT / "models"
    data_dir: Path = REPO_ROOT / "data"
    domain_dir: Path = REPO_ROOT / "rasa_project" / "domain"
    embedding_model_dir: Path = REPO_ROOT / "models" / "embedding" / "multilingual-e5-small"
    # Retraining from the Models page (training_jobs.py): `python -m training` runs in the Rasa env
    # (Rasa needs Python 3.10, this app runs in the actions env) from the project folder, with the
    # actions env's Python for the semantic index (the variable `python -m training` reads too).
    project_dir: Path = REPO_ROOT
    rasa_python: Path = VENVS_DIR / "rasa" / "bin" / "python"
    actions_python: Path = Field(
        default=VENVS_DIR / "actions" / "bin" / "python",
        validation_alias=AliasChoices(ACTIONS_PYTHON_ENV, "actions_python"),
    )
    training_config: Path = REPO_ROOT / "rasa_project" / "config.yml"
    # The answers the content workflow edits and the live NLG serves (same variable for both).
    content_dir: Path = Field(
        default=DEFAULT_CONTENT_DIR,
        validation_alias=AliasChoices(CONTENT_DIR_ENV, "REVIEW_CONTENT_DIR", "content_dir"),
    )

    # Session and sign-in cookies: "auto" makes them Secure except for plain http from a browser on
    # this machine (http://localhost:8078 under `make run`); true/false force it (services/review/proxy.py).
    secure_cookies: bool | Literal["auto"] = "auto"
    session_lifetime_seconds: int = Field(default=8 * 3600, ge=60)

    # Forwarding headers count only from these TCP peers (addresses or networks, comma-separated), and
    # only the one header the proxy writes. Empty: the TCP peer is the client, whatever headers say.
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    proxy_client_header: ClientHeader = ClientHeader.X_FORWARDED_FOR

    # Failed sign-ins within the window, refused before the password is checked once reached:
    # per username from one address, and per address over all usernames. Past the per-username
    # total from all addresses, each address gets one failure on that username, so a spread-out
    # attack is slowed while the owner, from an address without failures, still signs in.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=10, ge=1)
    login_max_failures_per_account: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    login_failure_delay_seconds: float = Field(default=0.5, ge=0)

    # Days in /stats and the date filters are local days; Indonesia has no daylight saving time.
    timezone: TimeZoneName = "Asia/Jakarta"
    page_size: int = Field(default=50, ge=1, le=500)
    sync_on_start: bool = True
    # List pages sync the tracker store first, at most this often.
    sync_min_interval_seconds: float = Field(default=5.0, ge=0)
    sync_batch_size: int = Field(default=20_000, ge=1)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``REVIEW_TRUSTED_PROXIES=127.0.0.1, 10.0.0.0/8`` (a plain list, not JSON)."""
        if isinstance(value, str):
            return tuple(item for item in value.replace(",", " ").split() if item)
        return value

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
