"""Handing a conversation to a human officer.

``human_handoff`` (asked for, the menu's "Hubungi petugas", or the offer after two uncertain turns)
marks the conversation as waiting for an officer: slot ``handoff_requested``, which
``python -m services.review waiting`` lists from the tracker store. While it is set, rules route every
message to ``action_handoff_wait``, which says nothing, until the recipient types ``menu``
(``action_show_menu`` releases it) or an officer sends ``/release_handoff``.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import FALLBACK_STREAK, HANDOFF_REQUESTED, OFFERED_OPTIONS, payloads, response_buttons

logger = logging.getLogger(__name__)

OFFER_RESPONSE = "utter_handoff_offer"
REQUESTED_RESPONSE = "utter_handoff_requested"
RELEASED_RESPONSE = "utter_handoff_released"


def offer_handoff(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list[EventType]:
    """The hotline, and a button that asks for an officer here."""
    dispatcher.utter_message(response=OFFER_RESPONSE)
    return [SlotSet(OFFERED_OPTIONS, payloads(response_buttons(domain, OFFER_RESPONSE)))]


def request_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    logger.info("Conversation %s waits for an officer", tracker.sender_id)
    dispatcher.utter_message(response=REQUESTED_RESPONSE)
    return [SlotSet(HANDOFF_REQUESTED, True), SlotSet(FALLBACK_STREAK, 0.0), SlotSet(OFFERED_OPTIONS, None)]


def release_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    logger.info("Conversation %s is back with the bot", tracker.sender_id)
    dispatcher.utter_message(response=RELEASED_RESPONSE)
    return [SlotSet(HANDOFF_REQUESTED, False)]


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return request_handoff(dispatcher, tracker)


class ActionHandoffWait(Action):
    """The bot stays silent while an officer has the conversation."""

    def name(self) -> str:
        return "action_handoff_wait"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return []


class ActionReleaseHandoff(Action):
    def name(self) -> str:
        return "action_release_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not tracker.get_slot(HANDOFF_REQUESTED):
            return []
        return release_handoff(dispatcher, tracker)
