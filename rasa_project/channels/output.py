"""The output channel: the assistant's responses, as WhatsApp messages, to one phone number.

One instance per incoming message. It is the only place that holds the real
phone number, and only while that message is answered: Rasa passes the
pseudonymous conversation id as ``recipient_id``, which is ignored here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel

from rasa_project.channels.graph_api import GraphApiClient, Outcome
from rasa_project.channels.limits import list_button_label
from rasa_project.channels.messages import (
    GraphMessage,
    choice_messages,
    image_message,
    text_messages,
)

logger = logging.getLogger(__name__)

CUSTOM_WHATSAPP_KEY = "whatsapp"


class WhatsAppOutput(OutputChannel):
    """Sends in order and stops a response at its first lost part (later parts would not make sense)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, client: GraphApiClient, phone: str, conversation: str) -> None:
        self._client = client
        self._phone = phone
        self._conversation = conversation
        self.outcomes: list[Outcome] = []

    def __repr__(self) -> str:  # keeps the phone number out of logs and tracebacks
        return f"WhatsAppOutput(conversation={self._conversation!r})"

    async def _send_all(self, messages: Iterable[GraphMessage]) -> None:
        for message in messages:
            outcome = await self._client.send(self._phone, message, self._conversation)
            self.outcomes.append(outcome)
            if not outcome.delivered:
                return

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_all(text_messages(text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        label = list_button_label(kwargs.get("metadata"))
        await self._send_all(choice_messages(text or "", buttons, label))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send_all([image_message(image)])

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """Rasa attachments have no WhatsApp equivalent we rely on; a link as text still reaches the user."""
        if isinstance(attachment, str) and attachment:
            await self.send_text_message(recipient_id, attachment)
        else:
            logger.warning("Attachment for conversation %s not sent: not a URL", self._conversation)

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            text = "\n".join(part for part in (element.get("title"), element.get("subtitle")) if part)
            await self.send_text_with_buttons(recipient_id, text, element.get("buttons") or [])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """``custom: {whatsapp: {type: ..., ...}}`` goes out as it is: for features not covered here."""
        raw = json_message.get(CUSTOM_WHATSAPP_KEY)
        if isinstance(raw, Mapping) and isinstance(raw.get("type"), str):
            await self._send_all([dict(raw)])
        else:
            logger.warning(
                "Custom payload for conversation %s not sent: no 'whatsapp' message", self._conversation
            )
