"""Action server settings, read from the environment (the supervisor passes them; .env.example lists them).

Read on every lookup rather than at import: a missing secret must turn into an apology to the
person, not an action server that will not start or a crash in the middle of a conversation.
One class for the whole server; each use checks only the secret it needs (``load_settings`` the
registry's, ``load_server_settings`` Rasa's), so the FAQ answers need neither.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.ports import ACTION_PORT, REGISTRY_PORT

_SEAL_KEY_LABEL = b"tanyavaksin/schedule-slot-seal/v1"


class SettingsError(Exception):
    """The settings are incomplete; the message names the variables, never their values."""


class ActionSettings(BaseSettings):
    """Where the server listens, how to reach the registry and how long to wait for it, how it answers."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Only Rasa calls the action server, from the same host by default: loopback keeps it off the network.
    action_server_host: str = "127.0.0.1"
    action_port: int = Field(default=ACTION_PORT, ge=1, le=65535)
    # Rasa sends it as ``Authorization: Bearer …`` (rasa_project/endpoints.yml); without it the server
    # does not start: an action server that anyone can call is an open registry oracle (issue #11.3).
    action_server_token: SecretStr = SecretStr("")
    # /health asks the registry how it is; a slow registry must not make the health check slow.
    action_server_health_timeout_seconds: float = Field(default=1.0, gt=0)

    registry_url: str = f"http://127.0.0.1:{REGISTRY_PORT}"
    registry_service_token: SecretStr = SecretStr("")
    # A person is waiting: a few seconds per attempt, a couple of quick retries, then the apology.
    registry_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    registry_read_timeout_seconds: float = Field(default=5.0, gt=0)
    registry_retries: int = Field(default=2, ge=0, le=5)
    registry_backoff_seconds: float = Field(default=0.25, ge=0)
    # Key that seals the NIK and birth date while they wait in a slot; derived from the service
    # token when unset, so that every action server replica agrees on it without another secret.
    schedule_slot_key: SecretStr | None = None
    schedule_slot_ttl_seconds: int = Field(default=1800, gt=0)

    # The semantic check of confident FAQ answers (actions/fallback.py): on the held-out split it halves
    # wrong answers (2.5 % -> 1.0 %) and helps more questions in all (README "Measured"). false: off.
    answer_check: bool = Field(
        default=True, validation_alias=AliasChoices("TANYAVAKSIN_ANSWER_CHECK", "answer_check")
    )
    # The semantic second stage (actions/semantic): the sentence model (empty: the one the index was
    # built with, provisioned in models/embedding), its CPU threads (0: torch's default; one keeps the
    # cores for Rasa), the models folder whose registry names the live index, or one index pinned.
    embedding_model: str = Field(
        default="", validation_alias=AliasChoices("TANYAVAKSIN_EMBEDDING_MODEL", "embedding_model")
    )
    embedding_threads: int = Field(
        default=1, ge=0, validation_alias=AliasChoices("TANYAVAKSIN_EMBEDDING_THREADS", "embedding_threads")
    )
    # Index builds and evaluations reuse the vectors of texts embedded before
    # (actions/semantic/embedding_store.py): a file (empty: the user's cache folder) or "off".
    embedding_cache: str = Field(
        default="", validation_alias=AliasChoices("TANYAVAKSIN_EMBEDDING_CACHE", "embedding_cache")
    )
    models: str = Field(default="models", validation_alias=AliasChoices("TANYAVAKSIN_MODELS", "models"))
    semantic_index: str = Field(
        default="", validation_alias=AliasChoices("TANYAVAKSIN_SEMANTIC_INDEX", "semantic_index")
    )

    # When officers answer handed-over conversations (actions/officer_hours.py): the recipient is told
    # honestly when an answer will come. Days mon..sun, 24-hour times, an IANA zone.
    officer_working_hours: str = "mon-fri 08:00-16:00"
    officer_timezone: str = "Asia/Jakarta"

    def seal_key(self) -> bytes:
        if self.schedule_slot_key is not None and self.schedule_slot_key.get_secret_value():
            return self.schedule_slot_key.get_secret_value().encode()
        token = self.registry_service_token.get_secret_value().encode()
        return hmac.new(token, _SEAL_KEY_LABEL, hashlib.sha256).digest()


def current_settings() -> ActionSettings:
    """This process's settings, read once per distinct environment.

    Every search and every FAQ answer consults them, and parsing the environment costs ~0.4 ms on
    this machine (a message used to do it three times); a server's environment never changes, and
    a test that changes it gets fresh settings. No secret is checked here (see ``load_settings``).
    """
    return _settings_for(frozenset(os.environ.items()))


@lru_cache(maxsize=4)
def _settings_for(environment: frozenset[tuple[str, str]]) -> ActionSettings:
    return ActionSettings()


def load_settings() -> ActionSettings:
    """The settings a registry lookup needs, or ``SettingsError`` naming what is missing or wrong."""
    return _load(registry_service_token=1)


def load_server_settings() -> ActionSettings:
    """The settings the server needs to start, or ``SettingsError`` naming what is missing or wrong."""
    return _load(action_server_token=16)


def _load(**minimum_lengths: int) -> ActionSettings:
    """The settings now in the environment, with these secrets at least this long."""
    try:
        settings = ActionSettings()
    except ValidationError as error:
        raise SettingsError(_problems(error)) from None
    short = [
        f"{name.upper()}: missing or shorter than {length} characters"
        for name, length in minimum_lengths.items()
        if len(getattr(settings, name).get_secret_value()) < length
    ]
    if short:
        raise SettingsError("; ".join(short))
    return settings


def _problems(error: ValidationError) -> str:
    """Variable names and what is wrong with them; never the values, which may be secrets."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors()
    )
