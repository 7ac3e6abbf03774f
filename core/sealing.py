"""Sealing a short secret to one conversation for a limited time (AES-256-GCM, ``cryptography``).

Two things wait in storage between messages and must be useless to whoever reads the store or a
log: the NIK and birth date the schedule check has collected (actions/sealing.py, in a slot) and a
recipient's phone number while an officer has the conversation (the WhatsApp channel,
rasa_project/channels/handoff_contacts.py). Both are sealed here: encrypted and authenticated, with
the conversation id and the expiry as associated data. A token therefore opens only in the
conversation that produced it and only until it expires: copied into another conversation, edited,
forged or stale, it opens to nothing.

Each use derives its own AEAD key from the configured secret with HKDF and a ``purpose`` label, so
any secret length works, the key is never the secret itself, and a token of one use never opens as
the other. Runs in both environments (Rasa's and the action server's).
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

_NONCE_BYTES = 12  # GCM's standard nonce: random, never reused with the same key in practice
_EXPIRY_BYTES = 8
_TAG_BYTES = 16


class Sealer:
    """Seals short strings for one conversation, for a limited time.

    ``prefix`` marks (and versions) the token format; ``purpose`` separates the keys of two uses
    of the same secret.
    """

    def __init__(
        self,
        key: bytes,
        ttl_seconds: float,
        *,
        prefix: str,
        purpose: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key:
            raise ValueError("the sealing key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)
        self._aead = AESGCM(derived)
        self._ttl_seconds = ttl_seconds
        self._prefix = prefix
        self._clock = clock

    @property
    def ttl_seconds(self) -> float:
        return self._ttl_seconds

    def seal(self, value: str, conversation_id: str) -> str:
        expires = int(self._clock() + self._ttl_seconds).to_bytes(_EXPIRY_BYTES, "big")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        associated = self._associated_data(expires, conversation_id)
        ciphertext = self._aead.encrypt(nonce, value.encode(), associated)
        return self._prefix + base64.urlsafe_b64encode(expires + nonce + ciphertext).decode()

    def unseal(self, token: object, conversation_id: str) -> str | None:
        """The value, or None when the token is missing, forged, from another conversation or expired."""
        if not isinstance(token, str) or not token.startswith(self._prefix):
            return None
        try:
            raw = base64.urlsafe_b64decode(token[len(self._prefix) :].encode("ascii"))
        except (binascii.Error, ValueError):
            return None
        if len(raw) < _EXPIRY_BYTES + _NONCE_BYTES + _TAG_BYTES:
            return None
        expires = raw[:_EXPIRY_BYTES]
        nonce = raw[_EXPIRY_BYTES : _EXPIRY_BYTES + _NONCE_BYTES]
        ciphertext = raw[_EXPIRY_BYTES + _NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, self._associated_data(expires, conversation_id))
        except InvalidTag:
            return None
        # Checked after authentication: an expiry that decrypts is the one that was sealed.
        if int.from_bytes(expires, "big") < self._clock():
            return None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            return None

    def _associated_data(self, expires: bytes, conversation_id: str) -> bytes:
        """What the tag covers besides the value: the format, the expiry and the conversation.

        The conversation id is length-prefixed so that no two (expiry, id) pairs encode alike.
        """
        conversation = conversation_id.encode("utf-8", "surrogatepass")
        return self._prefix.encode() + expires + len(conversation).to_bytes(4, "big") + conversation
