"""WhatsApp Cloud API input channel for Rasa 3.6 (``rasa_project.channels.whatsapp.WhatsAppInput``).

Meta calls ``GET /webhooks/whatsapp/webhook`` once to verify the URL and then
POSTs every event there. A POST is checked (signature, shape) and acknowledged
at once; the messages are handled afterwards in a background task, because Meta
redelivers anything not acknowledged within seconds and an answer can take
longer than that. Redeliveries are recognised by message id (``idempotency``).
Bodies, JSON depth, sender ids and texts are bounded and cleaned like on every
channel (``inbound``); a text too long to read gets a notice instead of an answer.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_project.channels.admission import admitted
from rasa_project.channels.failure_log import (
    failure_summary,
    install_message_text_filter,
    message_in_hand,
)
from rasa_project.channels.graph_api import GraphApiClient, RetryPolicy
from rasa_project.channels.handoff_contacts import HandoffContacts, open_contacts
from rasa_project.channels.idempotency import SeenMessages, open_seen_messages
from rasa_project.channels.inbound import FAILURE_NOTICE, TOO_LONG_NOTICE, BodyTooLarge, read_request_body
from rasa_project.channels.output import WhatsAppOutput
from rasa_project.channels.payload import (
    NON_TEXT_TYPES,
    Delivery,
    IncomingMessage,
    MalformedDelivery,
    parse_delivery,
)
from rasa_project.channels.privacy import conversation_id, message_key
from rasa_project.channels.settings import WhatsAppSettings
from rasa_project.channels.signature import SIGNATURE_HEADER, signature_is_valid

logger = logging.getLogger(__name__)

CHANNEL_NAME = "whatsapp"
ONLY_TEXT_NOTICE = (
    "Maaf, saya hanya bisa membaca pesan teks. Silakan tulis pertanyaan Anda tentang vaksinasi COVID-19, "
    "atau ketik *menu* untuk melihat daftar topik."
)
# After the notice, non-text messages go to the assistant as this intent, so the menu shown is the domain's.
MENU_INTENT = "show_menu"
SHUTDOWN_GRACE_SECONDS = 10.0

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WhatsAppWebhook:
    """What the webhook does, apart from Sanic (so it is unit-tested without a server)."""

    def __init__(self, settings: WhatsAppSettings, client: GraphApiClient) -> None:
        self.settings = settings
        self.client = client
        self._seen: SeenMessages | None = None
        self._seen_lock = asyncio.Lock()
        self._contacts: HandoffContacts | None = None
        self._contacts_lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return not self.settings.missing()

    def verification(self, mode: str | None, token: str | None, challenge: str | None) -> tuple[int, str]:
        """Meta's subscription handshake: echo the challenge only for our verify token."""
        if (
            self.configured
            and mode == "subscribe"
            and token is not None
            and challenge is not None
            and _same(token, self.settings.verify_token)
        ):
            return 200, challenge
        logger.warning("WhatsApp webhook verification refused (mode %r)", mode)
        return 403, "forbidden"

    def accept(self, body: bytes, signature: str | None) -> tuple[int, Delivery | None]:
        """403 unless Meta signed it, 400 unless it reads as a delivery; else 200 and the delivery."""
        if not self.configured:
            logger.error("WhatsApp delivery refused: channel settings missing: %s", self.settings.missing())
            return 403, None
        if not signature_is_valid(body, signature, self.settings.app_secret):
            logger.warning("WhatsApp delivery refused: %s signature", "bad" if signature else "missing")
            return 403, None
        try:
            delivery = parse_delivery(body)
        except MalformedDelivery as error:
            logger.error("WhatsApp delivery rejected (400): %s", error)
            return 400, None
        for reported in delivery.errors:
            logger.warning("WhatsApp reported an error in a delivery: %s", reported)
        return 200, delivery

    async def seen_messages(self, tracker_store: object | None) -> SeenMessages:
        async with self._seen_lock:
            if self._seen is None:
                self._seen = await asyncio.to_thread(
                    open_seen_messages,
                    self.settings.seen_store_url,
                    self.settings.seen_ttl_seconds,
                    tracker_store,
                )
            return self._seen

    async def contacts(self, tracker_store: object | None) -> HandoffContacts:
        """Numbers of conversations waiting for an officer (sealed), in the seen-message store's place."""
        async with self._contacts_lock:
            if self._contacts is None:
                self._contacts = await asyncio.to_thread(
                    open_contacts, self.settings.seen_store_url, self.settings.sender_hash_key, tracker_store
                )
            return self._contacts

    async def process(
        self, delivery: Delivery, on_new_message: OnNewMessage, tracker_store: object | None
    ) -> None:
        """Handles the delivery's messages one after another, in Meta's order."""
        for message in delivery.messages:
            try:
                with message_in_hand(message.text or ""):
                    await self._handle(message, on_new_message, tracker_store)
            except Exception as error:
                logger.error(
                    "WhatsApp message (%s) could not be handled: %s", message.kind, failure_summary(error)
                )

    async def _first_time(self, key: str, tracker_store: object | None) -> bool:
        try:
            return await (await self.seen_messages(tracker_store)).first_time(key)
        except Exception:
            # Answering twice is better than not answering: the store being down must not silence us.
            logger.exception(
                "Seen-message store failed; handling message %s without the duplicate check", key
            )
            return True

    async def _refresh_contact(self, conversation: str, phone: str, tracker_store: object | None) -> bool:
        """Each message reopens Meta's 24-hour window: an open handoff keeps the number that long again.

        False when the contact store fails: the person is answered all the same (an officer's reply
        may then not reach them, which is logged).
        """
        try:
            await (await self.contacts(tracker_store)).refresh(conversation, phone)
        except Exception:
            logger.exception("Handoff contact store failed for conversation %s", conversation)
            return False
        return True

    async def _handle(
        self, message: IncomingMessage, on_new_message: OnNewMessage, tracker_store: object | None
    ) -> None:
        if message.phone_number_id != self.settings.phone_number_id:
            logger.warning(
                "WhatsApp message for another phone number id ignored: %s", message.phone_number_id
            )
            return
        key = message_key(message.message_id, self.settings.sender_hash_key)
        if not await self._first_time(key, tracker_store):
            logger.info("WhatsApp message %s already handled: redelivery ignored", key)
            return
        conversation = conversation_id(message.sender, self.settings.sender_hash_key)
        contacts_ready = await self._refresh_contact(conversation, message.sender, tracker_store)
        output = WhatsAppOutput(
            self.client,
            message.sender,
            conversation,
            partial(self.contacts, tracker_store) if contacts_ready else None,
        )
        text = message.text
        if message.too_long:
            logger.info("WhatsApp message of more than the allowed length answered with the length notice")
            await output.send_text_message(conversation, TOO_LONG_NOTICE)
            return
        if text is None:
            if message.kind not in NON_TEXT_TYPES:
                logger.info("WhatsApp message of unknown type %r answered as non-text", message.kind)
            await output.send_text_message(conversation, ONLY_TEXT_NOTICE)
            text = f"/{MENU_INTENT}"
        try:
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    conversation,
                    input_channel=CHANNEL_NAME,
                    message_id=key,
                    metadata={"whatsapp_type": message.kind},
                )
            )
        except Exception:
            if not output.outcomes:  # the person got nothing: say so rather than stay silent
                await output.send_text_message(conversation, FAILURE_NOTICE)
            raise

    async def close(self) -> None:
        await self.client.close()
        if self._seen is not None:
            await self._seen.close()
        if self._contacts is not None:
            await self._contacts.close()


def _same(given: str, expected: str) -> bool:
    """Constant-time, so the verify token cannot be guessed character by character."""
    return hmac.compare_digest(given.encode(), expected.encode())


class WhatsAppInput(InputChannel):
    """Rasa input channel; ``credentials.yml`` names its block after this class."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(WhatsAppSettings.from_credentials(credentials or {}))

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings
        policy = RetryPolicy(
            max_attempts=settings.send_max_attempts,
            first_backoff_seconds=settings.send_first_backoff_seconds,
            max_backoff_seconds=settings.send_max_backoff_seconds,
            timeout_seconds=settings.send_timeout_seconds,
        )
        client = GraphApiClient(
            settings.graph_api_url, settings.phone_number_id, settings.access_token, policy
        )
        self.webhook = WhatsAppWebhook(settings, client)
        self._tasks: set[asyncio.Task[None]] = set()
        if settings.missing():
            logger.warning(
                "WhatsApp channel is not configured (missing %s): its webhook refuses every request.",
                ", ".join(settings.missing()),
            )

    def _in_background(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish_background_work(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
        await self.webhook.close()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = admitted(on_new_message)
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.webhook.configured})

        @whatsapp_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            status, text = self.webhook.verification(
                request.args.get("hub.mode"),
                request.args.get("hub.verify_token"),
                request.args.get("hub.challenge"),
            )
            return response.text(text, status=status)

        @whatsapp_webhook.listener("before_server_start")
        async def hide_message_text_in_logs(app: Any, loop: Any) -> None:
            install_message_text_filter()

        @whatsapp_webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = await read_request_body(request)
            except BodyTooLarge as refused:
                logger.warning("WhatsApp delivery refused (413): %s", refused.reason)
                return response.text("payload too large", status=413)
            status, delivery = self.webhook.accept(body, request.headers.get(SIGNATURE_HEADER))
            if delivery is None:
                return response.text("forbidden" if status == 403 else "bad request", status=status)
            if delivery.messages:
                tracker_store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
                self._in_background(self.webhook.process(delivery, on_new_message, tracker_store))
            return response.text("EVENT_RECEIVED")

        @whatsapp_webhook.listener("before_server_stop")
        async def finish(app: Any, loop: Any) -> None:
            await self._finish_background_work()

        return whatsapp_webhook

    def get_output_channel(self) -> OutputChannel | None:
        """For messages without an incoming one (an officer's reply, the hand-back to the bot).

        Conversations are keyed by a hash, so the number comes from the sealed contact store, which
        holds it only while a handoff is open; otherwise the message is logged as lost.
        """
        return WhatsAppOutput(
            self.webhook.client, None, None, partial(self.webhook.contacts, _running_tracker_store())
        )


def _running_tracker_store() -> object | None:
    """The tracker store of the Rasa server this channel runs in (Rasa's API gives no other way)."""
    try:
        app = Sanic.get_app()
    except SanicException:
        return None
    return getattr(getattr(app.ctx, "agent", None), "tracker_store", None)
