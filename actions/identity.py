"""Forgetting what a person typed for the schedule check, in one place.

The lookup, ``batal``, and leaving the check for the menu all end it; each must leave no NIK,
birth date or code behind in the conversation (the slots hold them sealed until then).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet

from core.schedule_slots import BIRTH_DATE_SLOT, CHALLENGE_SLOT, CODE_SLOT, NIK_SLOT

IDENTITY_SLOTS = (NIK_SLOT, BIRTH_DATE_SLOT, CHALLENGE_SLOT, CODE_SLOT)


def forget_nik_and_birth_date() -> list[EventType]:
    return [SlotSet(NIK_SLOT, None), SlotSet(BIRTH_DATE_SLOT, None)]


def forget_identity() -> list[EventType]:
    """Events that clear what the person typed, and any code: after every lookup and on ``batal``."""
    return [*forget_nik_and_birth_date(), SlotSet(CHALLENGE_SLOT, None), SlotSet(CODE_SLOT, None)]


def forget_identity_if_any(slots: dict[str, Any]) -> list[EventType]:
    """The same, only when something is held: leaving the check by the menu or a menu number."""
    return forget_identity() if any(slots.get(name) is not None for name in IDENTITY_SLOTS) else []
