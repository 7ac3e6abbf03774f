"""Replies to the registry's template messages, and "Berhenti" / "MULAI" (issue #13).

A tap on a template button arrives as ``/notice_reply{"notice":"<reference>","choice":"..."}``.
Anyone can type that payload, with anyone's reference, so nothing in it is trusted until the
registry says that notice went to this very conversation (``/v1/notices/resolve``); an unknown
reference and someone else's get the same short "not recognised", and no detail of either.
Then: ``jadwal`` starts the schedule check (the identity check stays as it is), ``ubah`` says
honestly where an appointment is changed, ``berhenti`` stops the notices.

Opt-out and opt-in go to the registry at once; the person is told it is done only when the
registry said so (Meta's policy, and a person who asked to stop must not be told a false "OK").
The shared pieces of the outreach actions (the sealer, the registry client, the ways out of a
form) live here too; correction.py and kipi.py use them.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dates import format_day_and_date, format_time
from actions.registry_client import RegistryClient, RegistryError
from actions.sealing import Sealer
from actions.settings import ActionSettings, SettingsError, load_settings
from core.menu_words import normalised
from core.notice_payload import (
    CHOICE_CHANGE,
    CHOICE_ENTITY,
    CHOICE_SCHEDULE,
    CHOICE_STOP,
    CHOICES,
    NOTICE_ENTITY,
    REFERENCE,
)
from core.outreach_slots import NOTICE_KIND_SLOT
from core.schedule_slots import FORM as SCHEDULE_FORM
from core.text import clean_text

log = logging.getLogger(__name__)

SEE_SCHEDULE, CHANGE_SCHEDULE, STOP = CHOICE_SCHEDULE, CHOICE_CHANGE, CHOICE_STOP
# Where an opt-out or opt-in came from, for the registry's record.
SOURCE_TYPED, SOURCE_BUTTON = "chat", "button"

RESPONSE_NOTICE_UNKNOWN = "utter_notice_unknown"
RESPONSE_CHANGE_AT_FACILITY = "utter_notice_change_at_facility"
RESPONSE_CHANGE_ELSEWHERE = "utter_notice_change_elsewhere"
RESPONSE_NOTICE_UNAVAILABLE = "utter_notice_unavailable"
RESPONSE_OPTED_OUT = "utter_opted_out"
RESPONSE_OPTED_IN = "utter_opted_in"
RESPONSE_OPT_OUT_UNAVAILABLE = "utter_opt_out_unavailable"
RESPONSE_OPT_IN_UNAVAILABLE = "utter_opt_in_unavailable"

# Intents that leave an outreach form (data/rules/outreach.yml deactivates it and forgets its slots).
LEAVING_INTENTS = frozenset({"cancel", "show_menu", "opt_out"})


def outreach_settings() -> ActionSettings | None:
    try:
        return load_settings()
    except SettingsError as error:
        log.error("outreach: action server settings incomplete: %s", error)
        return None


def outreach_sealer(settings: ActionSettings | None) -> Sealer | None:
    return None if settings is None else Sealer(settings.seal_key(), settings.schedule_slot_ttl_seconds)


def latest_text(tracker: Tracker) -> str:
    """The person's latest message, cleaned (no control characters, NFC) and trimmed."""
    return clean_text(str(tracker.latest_message.get("text") or "")).strip()


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def is_leaving(tracker: Tracker) -> bool:
    """``batal``, ``menu`` or ``berhenti``: the form is left, nothing is read from the message."""
    return latest_intent(tracker) in LEAVING_INTENTS


def answers_latest_message(tracker: Tracker, form: str) -> bool:
    """Whether this validation reads a fresh message (not the form asking again after a rule)."""
    neutral = {form, f"validate_{form}", "action_listen", "action_extract_slots"}
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "bot" or (kind == "action" and event.get("name") not in neutral):
            return False
    return False


def _entity(tracker: Tracker, name: str) -> str:
    return str(next(tracker.get_latest_entity_values(name), None) or "")


class ActionNoticeReply(Action):
    """A tap on a template button, trusted only once the registry confirms the notice was sent here."""

    def name(self) -> str:
        return "action_notice_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reference, choice = _entity(tracker, NOTICE_ENTITY), _entity(tracker, CHOICE_ENTITY).lower()
        if not REFERENCE.fullmatch(reference) or choice not in CHOICES:
            log.info("notice reply: not a notice payload")
            dispatcher.utter_message(response=RESPONSE_NOTICE_UNKNOWN)
            return [SlotSet(NOTICE_KIND_SLOT, None)]
        settings = outreach_settings()
        if settings is None:
            dispatcher.utter_message(response=RESPONSE_NOTICE_UNAVAILABLE)
            return []
        try:
            notice = await RegistryClient.from_settings(settings).resolve_notice(tracker.sender_id, reference)
        except RegistryError as error:
            log.warning("notice reply: the registry could not resolve it: %s", error)
            dispatcher.utter_message(response=RESPONSE_NOTICE_UNAVAILABLE)
            return []
        if notice is None:
            log.info("notice reply: unknown here (unknown reference or another recipient's)")
            dispatcher.utter_message(response=RESPONSE_NOTICE_UNKNOWN)
            return [SlotSet(NOTICE_KIND_SLOT, None)]
        log.info("notice reply: %s to a %s notice", choice, notice.kind)
        events: list[EventType] = [SlotSet(NOTICE_KIND_SLOT, notice.kind)]
        if choice == SEE_SCHEDULE:
            return [*events, FollowupAction(SCHEDULE_FORM)]
        if choice == STOP:
            return [*events, *await opt(dispatcher, tracker, settings, stop=True, source=SOURCE_BUTTON)]
        appointment = notice.appointment
        if appointment is None:
            dispatcher.utter_message(response=RESPONSE_CHANGE_ELSEWHERE)
        else:
            dispatcher.utter_message(
                response=RESPONSE_CHANGE_AT_FACILITY,
                facility_name=appointment.facility_name,
                facility_address=appointment.facility_address,
                appointment_day=format_day_and_date(appointment.on),
                appointment_time=format_time(appointment.at),
            )
        return events


async def opt(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    settings: ActionSettings | None,
    *,
    stop: bool,
    source: str,
) -> list[EventType]:
    """Record an opt-out (``stop``) or opt-in at the registry, and say so only once it is recorded."""
    unavailable = RESPONSE_OPT_OUT_UNAVAILABLE if stop else RESPONSE_OPT_IN_UNAVAILABLE
    if settings is None:
        dispatcher.utter_message(response=unavailable)
        return []
    client = RegistryClient.from_settings(settings)
    try:
        if stop:
            status = await client.opt_out(tracker.sender_id, source)
        else:
            status = await client.opt_in(tracker.sender_id, source)
    except RegistryError as error:
        log.warning("opt-%s not recorded: %s", "out" if stop else "in", error)
        dispatcher.utter_message(response=unavailable)
        return []
    if status.opted_out != stop:
        log.error("opt-%s: the registry answered the opposite state", "out" if stop else "in")
        dispatcher.utter_message(response=unavailable)
        return []
    log.info("opt-%s recorded", "out" if stop else "in")
    dispatcher.utter_message(response=RESPONSE_OPTED_OUT if stop else RESPONSE_OPTED_IN)
    return []


class ActionOptOut(Action):
    """ "Berhenti", "STOP", "jangan kirim lagi" (core/menu_words.py): no more notices, at once."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await opt(dispatcher, tracker, outreach_settings(), stop=True, source=SOURCE_TYPED)


class ActionOptIn(Action):
    """ "MULAI", "start", "langganan lagi": notices again."""

    def name(self) -> str:
        return "action_opt_in"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await opt(dispatcher, tracker, outreach_settings(), stop=False, source=SOURCE_TYPED)


# "Kirim" on a read-back: the button sends /affirm; typed, one of these words.
YES_WORDS = frozenset({"ya", "iya", "kirim", "ok", "oke", "benar", "betul", "setuju", "yes", "lanjut"})
CONFIRMED = "yes"


def confirmation(tracker: Tracker) -> str | None:
    """``CONFIRMED`` when the latest message says "send it" (the button or a yes word), else None."""
    yes = latest_intent(tracker) == "affirm" or normalised(latest_text(tracker)) in YES_WORDS
    return CONFIRMED if yes else None


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` at most ``limit`` characters (on a word boundary when one is near), and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    space = head.rfind(" ")
    return (head[:space] if space > limit * 0.8 else head).rstrip(), True


def has_words(text: str) -> bool:
    """Whether the text has a letter or digit: emoji and punctuation alone do not count."""
    return any(character.isalnum() for character in text)


def sealed(sealer: Sealer, value: str, tracker: Tracker) -> str:
    return sealer.seal(value, tracker.sender_id)


def unsealed(sealer: Sealer, tracker: Tracker, slot: str) -> str | None:
    return sealer.unseal(tracker.get_slot(slot), tracker.sender_id)


def forget(slots: tuple[str, ...] | list[str]) -> list[EventType]:
    return [SlotSet(name, None) for name in slots]


def anything_held(tracker: Tracker, slots: tuple[str, ...]) -> bool:
    return any(tracker.get_slot(name) is not None for name in slots)
