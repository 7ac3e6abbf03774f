"""Keyed pseudonyms for phone numbers: the WhatsApp sender id, and the check that a sender owns a number.

The tracker store keeps conversations for good, so it must not hold the phone number. An HMAC with
a secret key (not a bare hash: the space of phone numbers is small enough to hash in full) gives a
stable conversation id that cannot be turned back into the number without the key. The registry
holds the same key, so it can tell whether a conversation comes from the number on file by
computing that number's id and comparing (in constant time), without the channel ever telling it
the sender's number. WhatsApp message ids (``wamid.…``) carry the sender's number too, so they
are keyed the same way before they reach the idempotency store or the tracker.

Standard library only: the Rasa channel (Python 3.10) and the registry (Python 3.11) both import it.
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


def keyed_digest(purpose: str, value: str, key: str) -> str:
    """HMAC-SHA256 of ``purpose:value``, hex, cut to 128 bits; ``purpose`` keeps kinds of values apart."""
    if not key:
        raise ValueError("the sender hash key is empty: set WHATSAPP_SENDER_HASH_KEY")
    message = f"{purpose}:{value}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:DIGEST_HEX_CHARACTERS]


def conversation_id(phone: str, key: str) -> str:
    """What Rasa sees as the sender id (and the tracker store keeps) for this phone number."""
    return CONVERSATION_PREFIX + keyed_digest("phone", normalise_phone(phone), key)


def message_key(whatsapp_message_id: str, key: str) -> str:
    """The idempotency key (and Rasa message id) for a WhatsApp message id."""
    return keyed_digest("message", whatsapp_message_id, key)


def is_sender_of(phone: str, sender_id: str, key: str) -> bool:
    """Whether ``sender_id`` is the WhatsApp conversation of ``phone``; constant time in the sender id."""
    return hmac.compare_digest(conversation_id(phone, key).encode(), sender_id.encode("utf-8", "replace"))
