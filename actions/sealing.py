"""Sealing the NIK and birth date while they wait in a slot between two messages.

Rasa reads the conversation back from the tracker store on every message, so what the form has
collected so far must be stored there. Sealed, a slot value is useless to whoever reads the
store or a log: it is encrypted and authenticated with AES-256-GCM, and the conversation id and
the expiry are its associated data. A token therefore opens only in the conversation that
produced it and only until it expires: copied into another conversation (issue #11.3), edited,
forged or stale, it opens to nothing.

The AEAD key is derived from the configured secret with HKDF, so any secret length works and the
key used here is never the secret itself (which also derives other keys, see actions/settings.py).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.schedule_slots import SEALED_PREFIX

PREFIX = f"{SEALED_PREFIX}v2:"  # the version changes with the format
_KEY_INFO = b"tanyavaksin/sealed-slot/aes-256-gcm"
_NONCE_BYTES = 12  # GCM's standard nonce: random, never reused with the same key in practice
_EXPIRY_BYTES = 8
_TAG_BYTES = 16


class Sealer:
    """Seals short strings for one conversation, for a limited time."""

    def __init__(self, key: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise ValueError("the sealing key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(key)
        self._aead = AESGCM(derived)
        self._ttl_seconds = ttl_seconds
        self._clock = clock

    def seal(self, value: str, conversation_id: str) -> str:
        expires = (int(self._clock()) + self._ttl_seconds).to_bytes(_EXPIRY_BYTES, "big")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, value.encode(), _associated_data(expires, conversation_id))
        return PREFIX + base64.urlsafe_b64encode(expires + nonce + ciphertext).decode()

    def unseal(self, token: object, conversation_id: str) -> str | None:
        """The value, or None when the token is missing, forged, from another conversation or expired."""
        if not isinstance(token, str) or not token.startswith(PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :].encode("ascii"))
        except (binascii.Error, ValueError):
            return None
        if len(raw) < _EXPIRY_BYTES + _NONCE_BYTES + _TAG_BYTES:
            return None
        expires = raw[:_EXPIRY_BYTES]
        nonce = raw[_EXPIRY_BYTES : _EXPIRY_BYTES + _NONCE_BYTES]
        ciphertext = raw[_EXPIRY_BYTES + _NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, _associated_data(expires, conversation_id))
        except InvalidTag:
            return None
        # Checked after authentication: an expiry that decrypts is the one that was sealed.
        if int.from_bytes(expires, "big") < self._clock():
            return None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            return None


def _associated_data(expires: bytes, conversation_id: str) -> bytes:
    """What the tag covers besides the value: the format, the expiry and the conversation.

    The conversation id is length-prefixed so that no two (expiry, id) pairs encode alike.
    """
    conversation = conversation_id.encode("utf-8", "surrogatepass")
    return PREFIX.encode() + expires + len(conversation).to_bytes(4, "big") + conversation
