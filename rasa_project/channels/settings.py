"""The channel's settings, read from its block in ``credentials.yml``.

Values there come from environment variables (``${WHATSAPP_...}``, expanded by
Rasa), so no secret is ever in the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rasa_project.channels.idempotency import DEFAULT_TTL_SECONDS

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v21.0"

# Without these the channel cannot check or answer anything: it refuses every request instead.
REQUIRED = ("verify_token", "app_secret", "access_token", "phone_number_id", "sender_hash_key")


def _text(credentials: Mapping[str, Any], key: str, default: str = "") -> str:
    value = credentials.get(key)
    return default if value is None else str(value).strip()


def _number(credentials: Mapping[str, Any], key: str, default: float) -> float:
    value = credentials.get(key)
    if value is None or str(value).strip() == "":
        return default
    return float(value)


@dataclass(frozen=True)
class WhatsAppSettings:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    sender_hash_key: str
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    seen_store_url: str = ""  # empty: the tracker database
    seen_ttl_seconds: float = DEFAULT_TTL_SECONDS
    send_max_attempts: int = 5
    send_timeout_seconds: float = 10.0
    send_first_backoff_seconds: float = 0.5
    send_max_backoff_seconds: float = 8.0

    def __repr__(self) -> str:  # secrets stay out of logs
        return f"WhatsAppSettings(phone_number_id={self.phone_number_id!r}, url={self.graph_api_url!r})"

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> WhatsAppSettings:
        return cls(
            verify_token=_text(credentials, "verify_token"),
            app_secret=_text(credentials, "app_secret"),
            access_token=_text(credentials, "access_token"),
            phone_number_id=_text(credentials, "phone_number_id"),
            sender_hash_key=_text(credentials, "sender_hash_key"),
            graph_api_url=_text(credentials, "graph_api_url") or DEFAULT_GRAPH_API_URL,
            seen_store_url=_text(credentials, "seen_store_url"),
            seen_ttl_seconds=_number(credentials, "seen_ttl_seconds", DEFAULT_TTL_SECONDS),
            send_max_attempts=max(1, int(_number(credentials, "send_max_attempts", 5))),
            send_timeout_seconds=_number(credentials, "send_timeout_seconds", 10.0),
            send_first_backoff_seconds=_number(credentials, "send_first_backoff_seconds", 0.5),
            send_max_backoff_seconds=_number(credentials, "send_max_backoff_seconds", 8.0),
        )

    def missing(self) -> list[str]:
        """Names of required settings that are empty."""
        return [name for name in REQUIRED if not getattr(self, name)]
