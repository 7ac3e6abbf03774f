"""What every channel does to a request before Rasa sees it: bound it, parse it, clean it.

One hostile request must not take the assistant down or hold it up (issue #11): a lone UTF-16
surrogate in a sender id made the SQL tracker store raise and Rasa exit, 200,000 characters of
text kept the NLU pipeline busy for 85 s while every other chat waited, and JSON nested 100,000
deep ended in a 500. Both channels (``rest.py``, ``whatsapp.py``) use these functions, so the
rules are the same wherever a message comes in:

- the body is read up to ``MAX_BODY_BYTES`` and refused above it (413);
- JSON deeper than ``MAX_JSON_DEPTH`` is refused before it is parsed (400): the depth is measured
  by a linear scan, never by recursion;
- a sender id must be well-formed Unicode without control characters, at most
  ``MAX_SENDER_CHARACTERS`` long (400 otherwise: it becomes a database key);
- text loses lone surrogates and control characters (except line breaks and tabs) and is put in
  NFC; above ``MAX_TEXT_CHARACTERS`` (WhatsApp's own limit) it is not sent to the NLU pipeline:
  the person gets ``TOO_LONG_NOTICE`` and the conversation goes on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.text import clean_text
from rasa_project.channels.limits import MAX_TEXT

if TYPE_CHECKING:
    from sanic.request import Request

MAX_TEXT_CHARACTERS = MAX_TEXT
MAX_SENDER_CHARACTERS = 128
# Large enough that a 200,000-character message (even as \u-escaped JSON) still gets the polite
# "too long" reply; anything larger is not a chat message.
MAX_BODY_BYTES = 1024 * 1024
# WhatsApp deliveries nest about 8 deep; nothing a channel accepts needs more.
MAX_JSON_DEPTH = 32

_LIMIT_AS_WRITTEN = f"{MAX_TEXT_CHARACTERS:,}".replace(",", ".")  # Indonesian thousands separator
TOO_LONG_NOTICE = (
    f"Maaf, pesan Anda terlalu panjang (lebih dari {_LIMIT_AS_WRITTEN} karakter). "
    "Mohon kirim pertanyaan yang lebih singkat, misalnya satu pertanyaan per pesan."
)
# When handling a message failed and the person got nothing: better than silence.
FAILURE_NOTICE = (
    "Maaf, pesan Anda belum bisa kami proses karena ada gangguan. Silakan coba lagi sebentar lagi."
)
# Short Indonesian reasons for the 4xx answers of the channels (what a client developer reads).
BODY_TOO_LARGE = "Permintaan terlalu besar."
NOT_JSON = "Isi permintaan bukan JSON yang valid."
TOO_DEEP = "JSON terlalu bertingkat."
NOT_AN_OBJECT = "Isi permintaan harus berupa objek JSON."
SENDER_INVALID = "ID pengirim tidak valid."
MESSAGE_NOT_TEXT = "Pesan harus berupa teks."
METADATA_INVALID = "Metadata harus berupa objek JSON."

# Categories a sender id may not contain: controls, format characters, surrogates, private use,
# line and paragraph separators.
_FORBIDDEN_IN_SENDER = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# One JSON string (possibly unterminated: the optional closing quote keeps the scan linear) or one
# bracket. Strings are skipped whole, so brackets inside them are not counted.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class InvalidInput(ValueError):
    """The request is refused; ``reason`` is the short Indonesian text the client gets."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class BodyTooLarge(InvalidInput):
    def __init__(self) -> None:
        super().__init__(BODY_TOO_LARGE, status=413)


@dataclass(frozen=True)
class InboundText:
    """A message's text after cleaning; ``too_long`` means it must not reach the NLU pipeline."""

    text: str
    too_long: bool


async def read_bounded_body(
    chunks: AsyncIterable[bytes | None], declared_length: str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` (never held whole)."""
    if declared_length is not None and declared_length.strip().isdigit() and int(declared_length) > limit:
        raise BodyTooLarge()
    body = bytearray()
    async for chunk in chunks:
        if chunk is None:
            break
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge()
    return bytes(body)


async def read_request_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body of a request to a streaming route (``stream=True``), bounded by ``limit``."""
    chunks = request.stream if request.stream is not None else _already_read(request.body)
    return await read_bounded_body(chunks, request.headers.get("content-length"), limit)


async def _already_read(body: bytes) -> AsyncIterator[bytes]:
    yield body


def json_depth_exceeds(document: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets nest deeper than ``limit``: one linear pass, stopped at the first excess."""
    depth = 0
    for token in _JSON_TOKEN.finditer(document):
        character = token.group()[0]
        if character in "[{":
            depth += 1
            if depth > limit:
                return True
        elif character in "]}":
            depth -= 1
    return False


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``body``; InvalidInput when it is not UTF-8 JSON or nests too deep."""
    try:
        document = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(NOT_JSON) from None
    if json_depth_exceeds(document, max_depth):
        raise InvalidInput(TOO_DEEP)
    try:
        return json.loads(document)
    except (json.JSONDecodeError, RecursionError):
        raise InvalidInput(NOT_JSON) from None


def inbound_text(raw: str) -> InboundText:
    """The cleaned text and whether it is too long for the assistant to read."""
    text = clean_text(raw)
    return InboundText(text=text, too_long=len(text) > MAX_TEXT_CHARACTERS)


def valid_sender(value: object, max_length: int = MAX_SENDER_CHARACTERS) -> str:
    """The sender id in NFC; InvalidInput unless it is a short, printable, well-formed string.

    A number is taken as its decimal text (some clients send numeric ids). The id is a database key
    and a log field, so it is refused rather than repaired: two repaired ids could collide.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(SENDER_INVALID)
    if any(unicodedata.category(character) in _FORBIDDEN_IN_SENDER for character in value):
        raise InvalidInput(SENDER_INVALID)
    return unicodedata.normalize("NFC", value)


def clean_value(value: Any) -> Any:
    """Every string inside a JSON value cleaned like text (metadata is stored with the message)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(item) for item in value]
    if isinstance(value, Mapping):
        return {clean_text(str(key)): clean_value(item) for key, item in value.items()}
    return value
