"""The supervisor's settings, read once from the environment that supervisor/environment.py prepares."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.ports import RASA_PORT, REGISTRY_PORT, REVIEW_PORT, SUPERVISOR_PORT

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


class SupervisorSettings(BaseSettings):
    """Where each server listens, and how hard the supervisor tries to keep them up.

    The action server's port is the action server's own setting (actions/settings.py), read there.
    """

    model_config = SettingsConfigDict(extra="ignore")

    # Databases, secrets and logs of the run: owner-only.
    run_dir: Path = ROOT / ".run"
    # Empty: models/live.tar.gz (the model the training gate made live) if there is one, else the newest.
    model_path: str = ""
    rasa_port: int = Field(default=RASA_PORT, ge=1, le=65535)
    # Loopback unless a deployment puts a reverse proxy (TLS, the public WhatsApp webhook) in front.
    rasa_interface: str = "127.0.0.1"
    registry_port: int = Field(default=REGISTRY_PORT, ge=1, le=65535)
    review_port: int = Field(default=REVIEW_PORT, ge=1, le=65535)
    # Generated into $RUN_DIR/secrets.env when not set; the training gate uses it to swap models.
    rasa_api_token: SecretStr = SecretStr("")
    # The review app's "admin" on a new run folder; generated into $RUN_DIR/secrets.env when not set.
    review_admin_password: SecretStr = SecretStr("")
    # Rasa's tracker store (rasa_project/endpoints.yml), which the review app reads too.
    tracker_db_dialect: str = "sqlite"
    tracker_db: str = ""  # empty: $RUN_DIR/tracker.db

    # The health endpoint: loopback only, it names the processes and their state.
    supervisor_host: str = "127.0.0.1"
    supervisor_port: int = Field(default=SUPERVISOR_PORT, ge=1, le=65535)
    # A process that dies comes back after 1 s, then 2, 4 … up to a minute while it keeps dying;
    # one that stayed up for `stable` seconds starts again from 1 s.
    supervisor_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    supervisor_backoff_max_seconds: float = Field(default=60.0, gt=0)
    supervisor_stable_seconds: float = Field(default=60.0, gt=0)
    supervisor_health_interval_seconds: float = Field(default=5.0, gt=0)
    supervisor_health_timeout_seconds: float = Field(default=2.0, gt=0)
    # On Ctrl-C each server gets this long to finish; then it is killed.
    supervisor_stop_timeout_seconds: float = Field(default=20.0, gt=0)
    # The WhatsApp Business number (the channel's and the registry's settings): with both set, the
    # stack also runs the outreach worker, which sends campaigns' template messages from it.
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""

    @property
    def sends_whatsapp(self) -> bool:
        return bool(self.whatsapp_access_token.get_secret_value() and self.whatsapp_phone_number_id)

    @property
    def model(self) -> str:
        live = MODELS / "live.tar.gz"
        return self.model_path or str(live if live.exists() else MODELS)

    @property
    def tracker_database(self) -> str:
        return self.tracker_db or str(self.run_dir / "tracker.db")
