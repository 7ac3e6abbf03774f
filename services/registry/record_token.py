"""The record_token: proof that this conversation passed the identity check for this record, lately.

A lookup that finds a record answers with a token; a correction request or a KIPI report sends it
back instead of the NIK and birth date. Sealed with core/sealing.py (AES-256-GCM, the conversation
id and the expiry as associated data), it holds the recipient id and the keyed hash of the
conversation, and it opens only in the conversation it was issued to, until it expires: copied
into another chat, edited, forged or stale, it opens to nothing. The action server keeps it but
cannot read it, and nothing in it identifies the person to whoever reads a tracker or a log.

The key is derived from the audit hash key with a purpose label of its own (HKDF in the Sealer),
so no new secret is needed and a token of another use never opens here.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends

from core.sealing import Sealer
from services.registry.dependencies import StateDep
from services.registry.hashing import conversation_hash
from services.registry.settings import RegistrySettings

PREFIX = "rt1:"  # the version changes with the format
_PURPOSE = b"tanyavaksin/registry/record-token/aes-256-gcm"


class RecordTokens:
    """Issues and opens record tokens on the app's clock (tests move it to expire them)."""

    def __init__(self, settings: RegistrySettings, clock: Callable[[], datetime]) -> None:
        self._hash_key = settings.audit_hash_key.get_secret_value()
        self._sealer = Sealer(
            self._hash_key.encode(),
            settings.record_token_minutes * 60,
            prefix=PREFIX,
            purpose=_PURPOSE,
            clock=lambda: clock().timestamp(),
        )

    def issue(self, recipient_id: int, conversation_id: str) -> str:
        hashed = conversation_hash(self._hash_key, conversation_id)
        return self._sealer.seal(f"{recipient_id}:{hashed}", conversation_id)

    def open(self, token: str | None, conversation_id: str) -> int | None:
        """The recipient id, or None: no token, or forged, edited, expired or another conversation's."""
        if token is None:
            return None
        value = self._sealer.unseal(token, conversation_id)
        if value is None:
            return None
        recipient, _, hashed = value.partition(":")
        # The sealed hash repeats the binding the associated data already gives: belt and braces.
        expected = conversation_hash(self._hash_key, conversation_id)
        if not recipient.isdigit() or not hmac.compare_digest(hashed, expected):
            return None
        return int(recipient)


def get_record_tokens(state: StateDep) -> RecordTokens:
    return RecordTokens(state.settings, state.clock)


RecordTokensDep = Annotated[RecordTokens, Depends(get_record_tokens)]
