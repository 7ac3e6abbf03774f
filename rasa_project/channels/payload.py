"""Reading Meta's webhook deliveries (``object: whatsapp_business_account``).

A delivery holds entries, an entry holds changes, a change's ``value`` holds
``messages`` and/or ``statuses``. Anything that does not have that shape is
rejected as a whole (HTTP 400), so a broken sender is visible in the logs and
nothing half-read reaches the assistant. The same rules as on every channel apply
(``inbound.py``): JSON depth is bounded, sender ids must be well-formed, and texts are
cleaned and flagged when they are too long for the assistant to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_project.channels.inbound import (
    MAX_SENDER_CHARACTERS,
    InvalidInput,
    inbound_text,
    parse_json,
    valid_sender,
)

WHATSAPP_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
# Message types that carry nothing the assistant can read; they get the "text only" notice.
NON_TEXT_TYPES = frozenset(
    {"image", "audio", "video", "sticker", "location", "document", "contacts", "reaction"}
)
# WhatsApp message ids (``wamid.`` + base64) are about 60 characters; they are keyed, not stored.
MAX_MESSAGE_ID_CHARACTERS = 256


class MalformedDelivery(ValueError):
    """The body is not JSON, or not shaped like a WhatsApp Cloud API webhook delivery."""


@dataclass(frozen=True)
class IncomingMessage:
    """One user message. ``sender`` is the real phone number: keep it in memory only."""

    message_id: str
    sender: str
    phone_number_id: str
    kind: str
    text: str | None  # what the assistant receives; None when it is not text (the notice goes out)
    too_long: bool = False  # the text is over the length limit: the person gets the length notice

    def __repr__(self) -> str:  # keeps the phone number and the text out of logs and tracebacks
        return f"IncomingMessage(kind={self.kind!r}, characters={len(self.text or '')})"


@dataclass
class Delivery:
    """What one webhook POST carried; filled in while reading it."""

    messages: list[IncomingMessage] = field(default_factory=list)
    ignored_statuses: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored_reactions: int = 0


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedDelivery(f"{where} is not an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedDelivery(f"{where} is not a list")
    return value


def _string(container: Mapping[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str):
        raise MalformedDelivery(f"{where}.{key} is not a string")
    return value


def _reply_id(message: Mapping[str, Any], where: str) -> str | None:
    """The id of the tapped reply button or list row; None for other interactive replies."""
    interactive = _mapping(message.get("interactive"), f"{where}.interactive")
    reply_type = _string(interactive, "type", f"{where}.interactive")
    if reply_type not in ("button_reply", "list_reply"):
        return None
    reply = _mapping(interactive.get(reply_type), f"{where}.interactive.{reply_type}")
    return _string(reply, "id", f"{where}.interactive.{reply_type}")


def _template_button_payload(message: Mapping[str, Any], where: str) -> str:
    """A template quick-reply button: its payload, or its text when the template set none."""
    button = _mapping(message.get("button"), f"{where}.button")
    payload = button.get("payload")
    if isinstance(payload, str) and payload:
        return payload
    return _string(button, "text", f"{where}.button")


def _text_of(message: Mapping[str, Any], kind: str, where: str) -> str | None:
    if kind == "text":
        return _string(_mapping(message.get("text"), f"{where}.text"), "body", f"{where}.text")
    if kind == "interactive":
        return _reply_id(message, where)
    if kind == "button":
        return _template_button_payload(message, where)
    return None


def _is_reaction_removal(message: Mapping[str, Any]) -> bool:
    """Taking a reaction back arrives as a reaction without an emoji; it deserves no reply."""
    reaction = message.get("reaction")
    return isinstance(reaction, Mapping) and not reaction.get("emoji")


def _identifier(
    container: Mapping[str, Any], key: str, where: str, max_length: int = MAX_SENDER_CHARACTERS
) -> str:
    """A sender or message id: refused unless well-formed and short (it is keyed and stored)."""
    try:
        return valid_sender(_string(container, key, where), max_length)
    except InvalidInput:
        raise MalformedDelivery(f"{where}.{key} is not a valid id") from None


def _message(raw: object, phone_number_id: str, where: str) -> IncomingMessage:
    message = _mapping(raw, where)
    kind = _string(message, "type", where)
    raw_text = _text_of(message, kind, where)
    inbound = None if raw_text is None else inbound_text(raw_text)
    return IncomingMessage(
        message_id=_identifier(message, "id", where, MAX_MESSAGE_ID_CHARACTERS),
        sender=_identifier(message, "from", where),
        phone_number_id=phone_number_id,
        kind=kind,
        text=None if inbound is None else inbound.text,
        too_long=inbound is not None and inbound.too_long,
    )


def _read_value(value: Mapping[str, Any], where: str, delivery: Delivery) -> None:
    delivery.ignored_statuses += len(_list(value.get("statuses", []), f"{where}.statuses"))
    for error in _list(value.get("errors", []), f"{where}.errors"):
        delivery.errors.append(dict(_mapping(error, f"{where}.errors[]")))
    raw_messages = _list(value.get("messages", []), f"{where}.messages")
    if not raw_messages:
        return
    phone_number_id = _string(_mapping(value.get("metadata"), f"{where}.metadata"), "phone_number_id", where)
    for index, raw in enumerate(raw_messages):
        if isinstance(raw, Mapping) and raw.get("type") == "reaction" and _is_reaction_removal(raw):
            delivery.ignored_reactions += 1
            continue
        delivery.messages.append(_message(raw, phone_number_id, f"{where}.messages[{index}]"))


def parse_delivery(body: bytes) -> Delivery:
    """The messages of one webhook POST, in the order Meta sent them."""
    try:
        document = parse_json(body)
    except InvalidInput as error:
        raise MalformedDelivery(f"not accepted as JSON: {error.reason}") from None
    root = _mapping(document, "body")
    if root.get("object") != WHATSAPP_OBJECT:
        raise MalformedDelivery(f"object is {root.get('object')!r}, not {WHATSAPP_OBJECT!r}")
    delivery = Delivery()
    for entry_index, raw_entry in enumerate(_list(root.get("entry"), "entry")):
        entry = _mapping(raw_entry, f"entry[{entry_index}]")
        for change_index, raw_change in enumerate(
            _list(entry.get("changes"), f"entry[{entry_index}].changes")
        ):
            where = f"entry[{entry_index}].changes[{change_index}]"
            change = _mapping(raw_change, where)
            if change.get("field") != MESSAGES_FIELD:
                continue  # template status, quality and account updates: not for the assistant
            _read_value(_mapping(change.get("value"), f"{where}.value"), f"{where}.value", delivery)
    return delivery
