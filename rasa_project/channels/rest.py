"""The REST channel (``/webhooks/rest/webhook``), with every request bounded and cleaned first.

Rasa's own ``RestInput`` hands whatever arrives to the assistant: a lone surrogate as sender id
stopped the whole server, 200,000 characters held every other chat up, and deep JSON gave a 500.
This subclass keeps its URL, its request (``sender``, ``message``, optional ``metadata``,
``?stream=true``) and its reply (the list of the bot's messages), and applies ``inbound.py``
first. Two things differ on purpose:

- ``input_channel`` in the body is ignored: a REST client cannot claim to be WhatsApp;
- a failure is logged without the message text (``failure_log.py``);
- a sender id with personal data in it (an NIK, a phone number, a date, an e-mail address, as
  ``core.personal_data`` reads them) is kept only as a keyed pseudonym, because the tracker store
  and the review app keep the conversation id for good; with no key set, such an id is refused.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from core.personal_data import redact_text
from core.sender_identity import keyed_digest
from rasa_project import action_client
from rasa_project.channels.admission import admitted
from rasa_project.channels.failure_log import (
    failure_summary,
    install_message_text_filter,
    message_in_hand,
)
from rasa_project.channels.inbound import (
    FAILURE_NOTICE,
    MESSAGE_NOT_TEXT,
    METADATA_INVALID,
    NOT_AN_OBJECT,
    TOO_LONG_NOTICE,
    InvalidInput,
    clean_value,
    inbound_text,
    parse_json,
    read_request_body,
    valid_sender,
)

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

PSEUDONYM_PREFIX = "rest_"
SENDER_HAS_PERSONAL_DATA = (
    "ID pengirim tidak boleh berisi data pribadi (NIK, nomor telepon, tanggal lahir, atau email)."
)


def stored_sender(sender: str, hash_key: str) -> str:
    """The conversation id kept for ``sender``: itself, or a keyed pseudonym if it holds personal data."""
    if redact_text(sender) == sender:
        return sender
    if not hash_key:
        raise InvalidInput(SENDER_HAS_PERSONAL_DATA)
    return PSEUDONYM_PREFIX + keyed_digest("rest-sender", sender, hash_key)


@dataclass(frozen=True)
class RestRequest:
    """One REST request after the checks: what the assistant may see."""

    sender: str | None  # None: Rasa's default conversation, as with its own REST channel
    text: str
    too_long: bool
    metadata: dict[str, Any] | None


async def read_rest_request(request: Request, sender_hash_key: str = "") -> RestRequest:
    """The checked request; InvalidInput (with its status and Indonesian reason) when refused."""
    document = parse_json(await read_request_body(request))
    if not isinstance(document, dict):
        raise InvalidInput(NOT_AN_OBJECT)
    raw_sender = document.get("sender")
    sender = None if raw_sender is None else stored_sender(valid_sender(raw_sender), sender_hash_key)
    message = document.get("message")
    if not isinstance(message, str):
        raise InvalidInput(MESSAGE_NOT_TEXT)
    metadata = document.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput(METADATA_INVALID)
    inbound = inbound_text(message)
    return RestRequest(sender, inbound.text, inbound.too_long, clean_value(metadata))


class ValidatingRestInput(RestInput):
    """``credentials.yml`` names this class; Rasa serves it under ``/webhooks/rest/``."""

    def __init__(self, sender_hash_key: str = "") -> None:
        self.sender_hash_key = sender_hash_key

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ValidatingRestInput:
        return cls(str((credentials or {}).get("sender_hash_key") or ""))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = admitted(on_new_message)
        rest_webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @rest_webhook.listener("before_server_start")
        async def hide_message_text_in_logs(app: Any, loop: Any) -> None:
            install_message_text_filter()

        @rest_webhook.listener("after_server_stop")
        async def close_action_connections(app: Any, loop: Any) -> None:
            await action_client.close()  # the server's kept-alive connections to the action server

        @rest_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                checked = await read_rest_request(request, self.sender_hash_key)
            except InvalidInput as refused:
                logger.warning("REST request refused (%d): %s", refused.status, refused.reason)
                return response.json({"error": refused.reason}, status=refused.status)
            return await self._answer(checked, on_new_message, bool_arg(request, "stream", default=False))

        return rest_webhook

    async def _answer(
        self, checked: RestRequest, on_new_message: OnNewMessage, stream: bool
    ) -> HTTPResponse | ResponseStream:
        collector = CollectingOutputChannel()
        if checked.too_long:
            logger.info("REST message of more than the allowed length answered with the length notice")
            recipient = checked.sender or UserMessage.DEFAULT_SENDER_ID
            await collector.send_text_message(recipient, TOO_LONG_NOTICE)
            return response.json(collector.messages)
        if stream:
            streamer = self.stream_response(
                on_new_message, checked.text, checked.sender, self.name(), checked.metadata
            )

            async def stream_in_hand(resp: Any) -> None:
                with message_in_hand(checked.text):
                    await streamer(resp)

            return response.stream(stream_in_hand, content_type="text/event-stream")
        with message_in_hand(checked.text):
            try:
                await on_new_message(
                    UserMessage(
                        checked.text,
                        collector,
                        checked.sender,
                        input_channel=self.name(),
                        metadata=checked.metadata,
                    )
                )
            except CancelledError:
                logger.error("REST message timed out before it was answered")
            except Exception as error:
                logger.error("REST message could not be handled: %s", failure_summary(error))
                if not collector.messages:
                    await collector.send_text_message(
                        checked.sender or UserMessage.DEFAULT_SENDER_ID, FAILURE_NOTICE
                    )
        return response.json(collector.messages)
