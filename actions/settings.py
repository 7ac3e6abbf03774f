"""Action server settings, read from the environment (scripts/run_assistant.sh exports them).

Read on every lookup rather than at import: a missing secret must turn into an apology to the
person, not an action server that will not start or a crash in the middle of a conversation.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

_SEAL_KEY_LABEL = b"tanyavaksin/schedule-slot-seal/v1"


class SettingsError(Exception):
    """The settings are incomplete; the message names the variables, never their values."""


class ActionSettings(BaseSettings):
    """How to reach the registry, and how long to wait for it."""

    model_config = SettingsConfigDict(extra="ignore")

    registry_url: str = "http://127.0.0.1:8077"
    registry_service_token: SecretStr = Field(min_length=1)
    # A person is waiting: a few seconds per attempt, a couple of quick retries, then the apology.
    registry_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    registry_read_timeout_seconds: float = Field(default=5.0, gt=0)
    registry_retries: int = Field(default=2, ge=0, le=5)
    registry_backoff_seconds: float = Field(default=0.25, ge=0)
    # Key that seals the NIK and birth date while they wait in a slot; derived from the service
    # token when unset, so that every action server replica agrees on it without another secret.
    schedule_slot_key: SecretStr | None = None
    schedule_slot_ttl_seconds: int = Field(default=1800, gt=0)

    def seal_key(self) -> bytes:
        if self.schedule_slot_key is not None and self.schedule_slot_key.get_secret_value():
            return self.schedule_slot_key.get_secret_value().encode()
        token = self.registry_service_token.get_secret_value().encode()
        return hmac.new(token, _SEAL_KEY_LABEL, hashlib.sha256).digest()


class ActionServerSettings(BaseSettings):
    """The action server's HTTP edge: where it listens, and the secret Rasa presents on every call.

    Apart from ``ActionSettings`` because it is read once, when the server starts, and a missing
    token must stop the start: an action server that anyone can call is an open registry oracle
    (issue #11.3). Rasa sends the token as ``Authorization: Bearer …`` (rasa_project/endpoints.yml).
    """

    model_config = SettingsConfigDict(extra="ignore")

    # Only Rasa calls the action server, from the same host by default: loopback keeps it off the network.
    action_server_host: str = "127.0.0.1"
    action_port: int = Field(default=5055, ge=1, le=65535)
    action_server_token: SecretStr = Field(min_length=16)
    # /health asks the registry how it is; a slow registry must not make the health check slow.
    action_server_health_timeout_seconds: float = Field(default=1.0, gt=0)


def load_settings() -> ActionSettings:
    """The settings now in the environment, or ``SettingsError`` naming what is missing or wrong."""
    try:
        return ActionSettings()  # type: ignore[call-arg]  # the token comes from the environment
    except ValidationError as error:
        raise SettingsError(_problems(error)) from None


def load_server_settings() -> ActionServerSettings:
    """The action server's edge settings, or ``SettingsError`` naming what is missing or wrong."""
    try:
        return ActionServerSettings()  # type: ignore[call-arg]  # the token comes from the environment
    except ValidationError as error:
        raise SettingsError(_problems(error)) from None


def _problems(error: ValidationError) -> str:
    """Variable names and what is wrong with them; never the values, which may be secrets."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors()
    )
