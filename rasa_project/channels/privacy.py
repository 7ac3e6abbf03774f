"""Keyed pseudonyms for phone numbers and WhatsApp message ids.

The tracker store keeps conversations for good, so it must not hold the phone
number. An HMAC with a secret key (not a bare hash: the space of phone numbers is
small enough to hash in full) gives a stable conversation id that cannot be
turned back into the number without the key. WhatsApp message ids (``wamid.…``)
are base64 of data that includes the sender's number, so they are keyed too
before they reach the idempotency store or the tracker.
"""

from __future__ import annotations

import hashlib
import hmac

CONVERSATION_PREFIX = "wa_"
# 128 bits: collisions need ~2^64 users; shorter keeps logs readable.
DIGEST_HEX_CHARACTERS = 32


def normalise_phone(number: str) -> str:
    """Digits only, so ``+62 812-…`` and ``62812…`` are one person."""
    return "".join(character for character in number if character.isdigit())


def _keyed_digest(purpose: str, value: str, key: str) -> str:
    if not key:
        raise ValueError("the sender hash key is empty: set WHATSAPP_SENDER_HASH_KEY")
    message = f"{purpose}:{value}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:DIGEST_HEX_CHARACTERS]


def conversation_id(phone: str, key: str) -> str:
    """What Rasa sees as the sender id (and the tracker store keeps) for this phone number."""
    return CONVERSATION_PREFIX + _keyed_digest("phone", normalise_phone(phone), key)


def message_key(whatsapp_message_id: str, key: str) -> str:
    """The idempotency key (and Rasa message id) for a WhatsApp message id."""
    return _keyed_digest("message", whatsapp_message_id, key)
