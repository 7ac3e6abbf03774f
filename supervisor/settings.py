"""The supervisor's settings, read once from the environment (scripts/run_assistant.sh exports them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]


class SupervisorSettings(BaseSettings):
    """Where each server listens, and how hard the supervisor tries to keep them up."""

    model_config = SettingsConfigDict(extra="ignore")

    root: Path = ROOT
    run_dir: Path = ROOT / ".run"
    model_path: str = str(ROOT / "models")
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    # Loopback unless a deployment puts a reverse proxy (TLS, the public WhatsApp webhook) in front.
    rasa_interface: str = "127.0.0.1"
    action_port: int = Field(default=5055, ge=1, le=65535)
    registry_port: int = Field(default=8077, ge=1, le=65535)
    review_port: int = Field(default=8078, ge=1, le=65535)
    rasa_api_token: SecretStr = Field(min_length=1)

    # The health endpoint: loopback only, it names the processes and their state.
    supervisor_host: str = "127.0.0.1"
    supervisor_port: int = Field(default=8079, ge=1, le=65535)
    # A process that dies comes back after 1 s, then 2, 4 … up to a minute while it keeps dying;
    # one that stayed up for `stable` seconds starts again from 1 s.
    supervisor_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    supervisor_backoff_max_seconds: float = Field(default=60.0, gt=0)
    supervisor_stable_seconds: float = Field(default=60.0, gt=0)
    supervisor_health_interval_seconds: float = Field(default=5.0, gt=0)
    supervisor_health_timeout_seconds: float = Field(default=2.0, gt=0)
    # On Ctrl-C each server gets this long to finish; then it is killed.
    supervisor_stop_timeout_seconds: float = Field(default=20.0, gt=0)
