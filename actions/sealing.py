"""Sealing the NIK and birth date while they wait in a slot between two messages.

Rasa reads the conversation back from the tracker store on every message, so what the form has
collected so far must be stored there. Sealed, a slot value is useless to whoever reads the
store or a log: it is encrypted, authenticated, bound to its conversation and expires.

Standard library only (the action server has no AEAD library): HMAC-SHA256 as a PRF in counter
mode for the keystream, and an HMAC-SHA256 tag over everything (encrypt-then-MAC), with separate
keys derived for each.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

PREFIX = "sealed:v1:"
_NONCE_BYTES = 16
_TAG_BYTES = 16
_EXPIRY_BYTES = 8
_BLOCK = hashlib.sha256().digest_size


class Sealer:
    """Seals short strings for one conversation, for a limited time."""

    def __init__(self, key: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise ValueError("the sealing key is empty")
        self._encryption_key = hmac.new(key, b"encrypt", hashlib.sha256).digest()
        self._tag_key = hmac.new(key, b"authenticate", hashlib.sha256).digest()
        self._ttl_seconds = ttl_seconds
        self._clock = clock

    def seal(self, value: str, conversation_id: str) -> str:
        expires = int(self._clock()) + self._ttl_seconds
        plaintext = expires.to_bytes(_EXPIRY_BYTES, "big") + value.encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = _xor(plaintext, self._keystream(nonce, len(plaintext)))
        tag = self._tag(conversation_id, nonce, ciphertext)
        return PREFIX + base64.urlsafe_b64encode(nonce + ciphertext + tag).decode()

    def unseal(self, token: object, conversation_id: str) -> str | None:
        """The value, or None when the token is missing, forged, from another conversation or expired."""
        if not isinstance(token, str) or not token.startswith(PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :].encode())
        except (binascii.Error, ValueError):
            return None
        if len(raw) < _NONCE_BYTES + _EXPIRY_BYTES + _TAG_BYTES:
            return None
        nonce, ciphertext, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(conversation_id, nonce, ciphertext)):
            return None
        plaintext = _xor(ciphertext, self._keystream(nonce, len(ciphertext)))
        if int.from_bytes(plaintext[:_EXPIRY_BYTES], "big") < self._clock():
            return None
        try:
            return plaintext[_EXPIRY_BYTES:].decode()
        except UnicodeDecodeError:
            return None

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = (
            hmac.new(self._encryption_key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            for counter in range(-(-length // _BLOCK))
        )
        return b"".join(blocks)[:length]

    def _tag(self, conversation_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        conversation = conversation_id.encode()
        message = PREFIX.encode() + len(conversation).to_bytes(4, "big") + conversation + nonce + ciphertext
        return hmac.new(self._tag_key, message, hashlib.sha256).digest()[:_TAG_BYTES]


def _xor(data: bytes, keystream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, keystream))
