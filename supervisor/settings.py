"""The supervisor's settings, read once from the environment that supervisor/environment.py prepares."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.ports import RASA_PORT, REGISTRY_PORT, REVIEW_PORT, SUPERVISOR_PORT

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
MAX_INSTANCES = 16
# Instance k (1, 2, ...) of a server behind the load balancer listens on the public port + this + k - 1.
INSTANCE_PORT_OFFSET = 100


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
    # Where the tracker database listens (PostgreSQL: host or host:port; empty for SQLite), as whom.
    tracker_db_host: str = ""
    tracker_db_user: str = ""
    tracker_db_password: SecretStr = SecretStr("")
    # Rasa's lock store, which keeps each conversation's messages in order: in_memory serves one Rasa
    # process; several (RASA_INSTANCES > 1, or several machines) share Redis.
    lock_store_type: Literal["in_memory", "redis"] = "in_memory"
    lock_store_host: str = "127.0.0.1"
    lock_store_port: int = Field(default=6379, ge=1, le=65535)
    lock_store_db: int = Field(default=1, ge=0)
    lock_store_password: SecretStr = SecretStr("")
    # Processes of each server behind the load balancer (nginx on the public ports) when more than one.
    # A Python process uses one core: on N cores, N Rasa servers. Several need the shared stores.
    rasa_instances: int = Field(default=1, ge=1, le=MAX_INSTANCES)
    action_instances: int = Field(default=1, ge=1, le=MAX_INSTANCES)

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

    @model_validator(mode="after")
    def _shared_stores_for_instances(self) -> SupervisorSettings:
        """Several Rasa processes must share one conversation store and one lock, or two of them
        answer the same conversation at once, out of order (SQLite locks up under several writers)."""
        if self.rasa_instances > 1 and (
            self.tracker_db_dialect == "sqlite" or self.lock_store_type != "redis"
        ):
            raise ValueError(
                "RASA_INSTANCES > 1 needs TRACKER_DB_DIALECT=postgresql (a shared tracker store) and "
                "LOCK_STORE_TYPE=redis (a shared lock store)"
            )
        return self

    @property
    def load_balanced(self) -> bool:
        """nginx in front: with more than one process of Rasa or of the action server."""
        return self.rasa_instances > 1 or self.action_instances > 1

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
