"""Keyed pseudonyms for phone numbers and WhatsApp message ids (the pure functions live in core/).

core/sender_identity.py holds them so that the registry, which checks that a conversation comes
from the number on file, computes exactly the ids this channel gives conversations.
"""

from __future__ import annotations

from core.sender_identity import (
    CONVERSATION_PREFIX,
    DIGEST_HEX_CHARACTERS,
    conversation_id,
    message_key,
    normalise_phone,
)

__all__ = [
    "CONVERSATION_PREFIX",
    "DIGEST_HEX_CHARACTERS",
    "conversation_id",
    "message_key",
    "normalise_phone",
]
