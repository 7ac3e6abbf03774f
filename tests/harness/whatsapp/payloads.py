"""Webhook deliveries shaped exactly like the ones Meta POSTs, and their signatures.

Standard library only: the channel's unit tests (Rasa env), the integration
tests and the WhatsApp user CLI (actions env) all build their payloads here.
Shapes follow Meta's "messages" webhook reference for the WhatsApp Cloud API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_DISPLAY_NUMBER = "15550783881"
DEFAULT_WABA_ID = "102290129340398"
SIGNATURE_HEADER = "X-Hub-Signature-256"

Message = dict[str, Any]

MEDIA_KINDS = ("image", "audio", "video", "sticker", "document")
NON_TEXT_KINDS = (*MEDIA_KINDS, "location", "contacts", "reaction")


def new_message_id() -> str:
    """A ``wamid.`` id of the usual length (random: unlike Meta's, it encodes no phone number)."""
    return "wamid." + base64.b64encode(secrets.token_bytes(36)).decode()


def _base(sender: str, kind: str, message_id: str | None) -> Message:
    return {
        "from": sender,
        "id": message_id or new_message_id(),
        "timestamp": str(int(time.time())),
        "type": kind,
    }


def text_message(sender: str, body: str, message_id: str | None = None) -> Message:
    return {**_base(sender, "text", message_id), "text": {"body": body}}


def button_reply(sender: str, button_id: str, title: str, message_id: str | None = None) -> Message:
    """The user tapped a reply button of an interactive message we sent."""
    return {
        **_base(sender, "interactive", message_id),
        "context": {"from": DEFAULT_DISPLAY_NUMBER, "id": new_message_id()},
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }


def list_reply(
    sender: str, row_id: str, title: str, description: str = "", message_id: str | None = None
) -> Message:
    """The user picked a row of an interactive list we sent."""
    reply = {"id": row_id, "title": title}
    if description:
        reply["description"] = description
    return {
        **_base(sender, "interactive", message_id),
        "context": {"from": DEFAULT_DISPLAY_NUMBER, "id": new_message_id()},
        "interactive": {"type": "list_reply", "list_reply": reply},
    }


def template_button(sender: str, payload: str, text: str, message_id: str | None = None) -> Message:
    """The user tapped a quick-reply button of a template message."""
    return {
        **_base(sender, "button", message_id),
        "context": {"from": DEFAULT_DISPLAY_NUMBER, "id": new_message_id()},
        "button": {"payload": payload, "text": text},
    }


def non_text_message(sender: str, kind: str, message_id: str | None = None) -> Message:
    """An image, audio, video, sticker, document, location, contact card or reaction."""
    message = _base(sender, kind, message_id)
    if kind in MEDIA_KINDS:
        media: dict[str, Any] = {
            "id": str(secrets.randbelow(10**15)),
            "mime_type": {"image": "image/jpeg", "audio": "audio/ogg; codecs=opus", "video": "video/mp4"}.get(
                kind, "application/octet-stream"
            ),
            "sha256": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        if kind == "audio":
            media["voice"] = True
        if kind == "document":
            media["filename"] = "kartu_vaksin.pdf"
        message[kind] = media
    elif kind == "location":
        message["location"] = {"latitude": -6.2088, "longitude": 106.8456, "name": "Puskesmas"}
    elif kind == "contacts":
        message["contacts"] = [{"name": {"formatted_name": "Budi", "first_name": "Budi"}, "phones": []}]
    elif kind == "reaction":
        message["reaction"] = {"message_id": new_message_id(), "emoji": "\U0001f44d"}
    else:
        raise ValueError(f"not a non-text kind: {kind}")
    return message


def status_update(recipient: str, status: str = "delivered", message_id: str | None = None) -> dict[str, Any]:
    """Meta telling us what happened to a message we sent (sent, delivered, read, failed)."""
    return {
        "id": message_id or new_message_id(),
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
        "conversation": {"id": secrets.token_hex(16), "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
    }


def change(
    messages: Iterable[Message] = (),
    statuses: Iterable[Mapping[str, Any]] = (),
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """One ``changes[]`` element of field ``messages``."""
    messages = list(messages)
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DEFAULT_DISPLAY_NUMBER, "phone_number_id": phone_number_id},
    }
    senders = list(dict.fromkeys(message["from"] for message in messages))
    if senders:
        value["contacts"] = [{"profile": {"name": "Pengguna Uji"}, "wa_id": sender} for sender in senders]
        value["messages"] = messages
    statuses = list(statuses)
    if statuses:
        value["statuses"] = statuses
    return {"value": value, "field": "messages"}


def delivery(*changes: Mapping[str, Any], entries: int = 1) -> dict[str, Any]:
    """A webhook body: the changes spread over ``entries`` entries (Meta may batch several)."""
    spread: list[list[Mapping[str, Any]]] = [[] for _ in range(max(1, entries))]
    for index, one_change in enumerate(changes):
        spread[index % len(spread)].append(one_change)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": DEFAULT_WABA_ID, "changes": part} for part in spread],
    }


def messages_delivery(*messages: Message, phone_number_id: str = DEFAULT_PHONE_NUMBER_ID) -> dict[str, Any]:
    return delivery(change(messages, phone_number_id=phone_number_id))


def encode(document: Mapping[str, Any]) -> bytes:
    """The raw body, compact like Meta's (the signature is over these exact bytes)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, app_secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, app_secret)}
