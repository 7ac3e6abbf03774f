"""Sending a one-time code to the number on file: a WhatsApp authentication template via the Graph API.

``POST {graph}/{phone_number_id}/messages`` with ``type: template``: the code fills the template
body and its copy-code button, as Meta's authentication templates require. Nothing here logs the
code, the number or Meta's answer body (it may echo the number).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from core.sender_identity import normalise_phone
from services.registry.settings import RegistrySettings

log = logging.getLogger(__name__)


class CodeNotSent(Exception):
    """The code did not go out (not configured, refused, or unreachable); the message says why, no values."""


class CodeSender(Protocol):
    def send_code(self, phone: str, code: str) -> None:
        """Deliver ``code`` to ``phone`` (E.164), or raise CodeNotSent."""


def template_message(phone: str, code: str, template: str, language: str) -> dict[str, Any]:
    """Meta's JSON for an authentication template with a copy-code button."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": normalise_phone(phone),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": code}],
                },
            ],
        },
    }


@dataclass(frozen=True)
class GraphApiCodeSender:
    """The Cloud API client for codes; one short request per code (codes are rare)."""

    graph_api_url: str
    access_token: str
    phone_number_id: str
    template: str
    language: str
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> GraphApiCodeSender | None:
        """None when WhatsApp is not configured: then no code can be sent."""
        if not settings.whatsapp_ready() or settings.access_token is None:
            return None
        return cls(
            settings.graph_api_url.rstrip("/"),
            settings.access_token.get_secret_value(),
            settings.phone_number_id,
            settings.code_template_name,
            settings.code_template_language,
            settings.graph_timeout_seconds,
        )

    def send_code(self, phone: str, code: str) -> None:
        url = f"{self.graph_api_url}/{self.phone_number_id}/messages"
        body = template_message(phone, code, self.template, self.language)
        headers = {"Authorization": f"Bearer {self.access_token}"}
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=self.timeout_seconds)
        except httpx.HTTPError as error:
            raise CodeNotSent(f"Graph API unreachable ({type(error).__name__})") from None
        if response.status_code != httpx.codes.OK:
            raise CodeNotSent(f"Graph API answered {response.status_code}")
