"""Sealing the NIK and birth date while they wait in a slot between two messages.

Rasa reads the conversation back from the tracker store on every message, so what the form has
collected so far must be stored there. Sealed (core/sealing.py: AES-256-GCM, bound to the
conversation and an expiry), a slot value is useless to whoever reads the store or a log, and a
token copied into another conversation (issue #11.3), edited, forged or stale opens to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core import sealing
from core.schedule_slots import SEALED_PREFIX

PREFIX = f"{SEALED_PREFIX}v2:"  # the version changes with the format
_PURPOSE = b"tanyavaksin/sealed-slot/aes-256-gcm"


class Sealer(sealing.Sealer):
    """The slot sealer: the common AEAD with the slot token format and key label."""

    def __init__(self, key: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        super().__init__(key, ttl_seconds, prefix=PREFIX, purpose=_PURPOSE, clock=clock)
