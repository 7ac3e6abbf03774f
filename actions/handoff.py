"""Handing a conversation to a human officer, relaying the officer's replies, handing it back.

``human_handoff`` (asked for, the menu's "Hubungi petugas", or the offer after two uncertain turns)
marks the conversation as waiting for an officer: slot ``handoff_requested``, which the review app's
officer console lists. While it is set, rules route every message to ``action_handoff_wait``, which
says nothing, until the recipient types ``menu`` (``action_show_menu`` releases it) or an officer
closes it (intent ``release_handoff``). The officer console sends each reply as the external intent
``officer_reply`` with the text as entity; ``action_relay_officer_reply`` says it to the recipient.

The messages that open and close a handoff carry ``handoff: open|closed`` in their metadata
(core/handoff.py): the WhatsApp channel keeps the recipient's number, sealed, exactly while a handoff
is open, because an officer's reply has no incoming message to answer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import FALLBACK_STREAK, HANDOFF_REQUESTED, OFFERED_OPTIONS, payloads, response_buttons
from actions.officer_hours import WorkingHours, WorkingHoursError
from actions.settings import current_settings
from core.handoff import (
    HANDOFF_CLOSED,
    HANDOFF_METADATA_KEY,
    HANDOFF_OPEN,
    OFFICER_REPLY_MAX_CHARACTERS,
    OFFICER_TEXT_ENTITY,
)

logger = logging.getLogger(__name__)

OFFER_RESPONSE = "utter_handoff_offer"
REQUESTED_IN_HOURS_RESPONSE = "utter_handoff_requested"
REQUESTED_AFTER_HOURS_RESPONSE = "utter_handoff_requested_after_hours"
RELEASED_RESPONSE = "utter_handoff_released"
OFFICER_REPLY_RESPONSE = "utter_officer_reply"
# The hours in force when the setting cannot be read (logged): the ministry's office hours.
_DEFAULT_HOURS = ("mon-fri 08:00-16:00", "Asia/Jakarta")


def offer_handoff(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list[EventType]:
    """The hotline, and a button that asks for an officer here."""
    dispatcher.utter_message(response=OFFER_RESPONSE)
    return [SlotSet(OFFERED_OPTIONS, payloads(response_buttons(domain, OFFER_RESPONSE)))]


def working_hours() -> WorkingHours:
    settings = current_settings()
    try:
        return WorkingHours.parse(settings.officer_working_hours, settings.officer_timezone)
    except WorkingHoursError as error:
        logger.error("OFFICER_WORKING_HOURS / OFFICER_TIMEZONE unreadable (%s): office hours used", error)
        return WorkingHours.parse(*_DEFAULT_HOURS)


def utc_now() -> datetime:
    """The moment "now" for the working-hours promise (tests fix it)."""
    return datetime.now(UTC)


def request_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, now: datetime | None = None
) -> list[EventType]:
    """Hands over, saying truthfully when an officer will answer."""
    logger.info("Conversation %s waits for an officer", tracker.sender_id)
    hours = working_hours()
    moment = now or utc_now()
    if hours.is_open(moment):
        dispatcher.utter_message(
            response=REQUESTED_IN_HOURS_RESPONSE,
            jam_kerja=hours.describe(),
            **{HANDOFF_METADATA_KEY: HANDOFF_OPEN},
        )
    else:
        dispatcher.utter_message(
            response=REQUESTED_AFTER_HOURS_RESPONSE,
            jam_kerja=hours.describe(),
            balasan_mulai=hours.describe_moment(hours.next_opening(moment)),
            **{HANDOFF_METADATA_KEY: HANDOFF_OPEN},
        )
    return [SlotSet(HANDOFF_REQUESTED, True), SlotSet(FALLBACK_STREAK, 0.0), SlotSet(OFFERED_OPTIONS, None)]


def release_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    logger.info("Conversation %s is back with the bot", tracker.sender_id)
    dispatcher.utter_message(response=RELEASED_RESPONSE, **{HANDOFF_METADATA_KEY: HANDOFF_CLOSED})
    return [SlotSet(HANDOFF_REQUESTED, False)]


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return request_handoff(dispatcher, tracker)


class ActionHandoffWait(Action):
    """The bot stays silent while an officer has the conversation.

    It sends no text, only the ``handoff: open`` mark: the person's message opened a new 24-hour
    window, so the channel keeps their number again even if the previous window had run out.
    """

    def name(self) -> str:
        return "action_handoff_wait"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(**{HANDOFF_METADATA_KEY: HANDOFF_OPEN})
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


def officer_text(tracker: Tracker) -> str:
    """The officer's reply from the triggering intent's entity, trimmed and bounded."""
    text = next(tracker.get_latest_entity_values(OFFICER_TEXT_ENTITY), None)
    if not isinstance(text, str):
        return ""
    return text.strip()[:OFFICER_REPLY_MAX_CHARACTERS]


class ActionRelayOfficerReply(Action):
    """Says an officer's reply to the recipient, under one line that says it is from an officer.

    Only while the conversation waits for an officer: a reply to a conversation already back with
    the bot is not sent (the console shows the conversation as closed).
    """

    def name(self) -> str:
        return "action_relay_officer_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = officer_text(tracker)
        if not tracker.get_slot(HANDOFF_REQUESTED) or not text:
            logger.warning(
                "Officer reply for %s not sent: %s",
                tracker.sender_id,
                "empty" if text == "" else "the conversation is not waiting for an officer",
            )
            return []
        dispatcher.utter_message(response=OFFICER_REPLY_RESPONSE, officer_text=text)
        return []
