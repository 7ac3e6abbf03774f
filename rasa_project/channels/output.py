"""The output channel: the assistant's responses, as WhatsApp messages, to one phone number.

One instance per incoming message: it holds the real phone number only while that message is
answered (Rasa passes the pseudonymous conversation id as ``recipient_id``). The one exception is a
conversation waiting for an officer: a response whose metadata says the handoff opened stores the
number sealed in ``HandoffContacts``, one that says it closed deletes it. Messages the assistant
sends later without an incoming message (an officer's reply, the hand-back) go through an instance
without a number (``WhatsAppInput.get_output_channel``), which looks it up there by conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel

from core.handoff import HANDOFF_CLOSED, HANDOFF_METADATA_KEY, HANDOFF_OPEN
from rasa_project.channels.graph_api import GraphApiClient, Outcome
from rasa_project.channels.handoff_contacts import HandoffContacts
from rasa_project.channels.limits import list_button_label
from rasa_project.channels.messages import (
    GraphMessage,
    choice_messages,
    image_message,
    text_messages,
)

logger = logging.getLogger(__name__)

CUSTOM_WHATSAPP_KEY = "whatsapp"
# The contact store is opened on first use (it may live in the tracker database).
ContactsProvider = Callable[[], Awaitable[HandoffContacts]]


class WhatsAppOutput(OutputChannel):
    """Sends in order and stops a response at its first lost part (later parts would not make sense)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self,
        client: GraphApiClient,
        phone: str | None,
        conversation: str | None,
        contacts: ContactsProvider | None = None,
    ) -> None:
        self._client = client
        self._phone = phone
        self._conversation = conversation
        self._contacts = contacts
        self._recipient = conversation or ""  # the conversation of the response being sent
        self.outcomes: list[Outcome] = []

    def __repr__(self) -> str:  # keeps the phone number out of logs and tracebacks
        return f"WhatsAppOutput(conversation={self._conversation!r})"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Sends, then keeps or forgets the number when the response opens or closes a handoff."""
        self._recipient = self._conversation or recipient_id
        handoff = message.get(HANDOFF_METADATA_KEY)
        await super().send_response(recipient_id, message)
        if self._contacts is None or handoff not in (HANDOFF_OPEN, HANDOFF_CLOSED):
            return
        try:
            contacts = await self._contacts()
            if handoff == HANDOFF_CLOSED:
                await contacts.forget(self._recipient)
            elif self._phone:
                await contacts.keep(self._recipient, self._phone)
        except Exception:  # the person has their answer; only an officer's later reply is at risk
            logger.exception("Handoff contact store failed for conversation %s", self._recipient)

    async def _phone_number(self) -> str | None:
        if self._phone:
            return self._phone
        if self._contacts is None or not self._recipient:
            return None
        try:
            return await (await self._contacts()).phone_for(self._recipient)
        except Exception:
            logger.exception("Handoff contact store failed for conversation %s", self._recipient)
            return None

    async def _send_all(self, messages: Iterable[GraphMessage]) -> None:
        phone = await self._phone_number()
        if phone is None:
            # No open handoff (closed, or 24 hours since the person wrote): WhatsApp would refuse it too.
            logger.error(
                "WhatsApp message LOST for conversation %s: no open handoff holds its number "
                "(handed back to the bot, or more than 24 hours since the person's last message)",
                self._recipient,
            )
            self.outcomes.append(Outcome(delivered=False, attempts=0, reason="no open handoff"))
            return
        for message in messages:
            outcome = await self._client.send(phone, message, self._recipient)
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
            logger.warning("Attachment for conversation %s not sent: not a URL", self._recipient)

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
                "Custom payload for conversation %s not sent: no 'whatsapp' message", self._recipient
            )
