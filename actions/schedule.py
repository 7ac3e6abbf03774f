"""Checking a vaccination schedule: the form that collects NIK and birth date, and the lookup.

``check_schedule`` starts ``schedule_form`` (NIK, then birth date; anyone's, as long as the asker
knows both). ``validate_schedule_form`` reads what people type and says what is wrong with it;
``action_lookup_schedule`` asks the registry and answers. The NIK and birth date wait in their
slots only sealed (actions/sealing.py), and both slots are cleared after the lookup and on
``batal``. Nothing here logs them or repeats them to the person.

NIK and birth date are one secret, so on WhatsApp the registry also wants the chat to come from
the number on file. When it does not, it sends a one-time code there and the lookup answers
"code sent": the form opens again for one more slot, ``schedule_code`` (sealed like the others,
see ``required_slots``), and ``action_lookup_schedule`` checks it. A wrong code asks again; an
expired one, or one wrong too often, starts the check over.
"""

from __future__ import annotations

import logging
import re
import secrets
from abc import ABC, abstractmethod
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.choices import repeats, said_lately
from actions.correction import offer_data_check
from actions.dates import (
    DateProblem,
    DateRejection,
    format_date,
    format_day_and_date,
    format_time,
    parse_birth_date,
)
from actions.dates import looks_like_a_date as _looks_like_a_date
from actions.identity import IDENTITY_SLOTS, forget_identity, forget_nik_and_birth_date
from actions.menu import uncertain_turn, utter_answer
from actions.registry_client import (
    CodeEnded,
    CodeSent,
    Locked,
    NoMatch,
    RegistryClient,
    RegistryError,
    RegistryRefused,
    Schedule,
    WrongCode,
)
from actions.sealing import Sealer
from actions.settings import ActionSettings, SettingsError, load_settings
from core.durations import format_duration
from core.nik import Nik, NikProblem, NikRejection, parse_nik
from core.personal_data import digit_chains

# The slot names are shared with the Rasa server's tracker store (it hides the code typed at CODE_SLOT).
from core.schedule_slots import BIRTH_DATE_SLOT, CHALLENGE_SLOT, CODE_SLOT, FORM, NIK_SLOT, REQUESTED_SLOT

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Asia/Jakarta")  # what "today" is for a birth date

# Intents that leave the form for a moment (a rule answers them, then the form asks again) or end it
# (batal, the menu, a menu number: data/rules/schedule.yml), unless the message holds an NIK or a date.
INTERRUPTIONS = frozenset(
    {"faq", "cancel", "show_menu", "choose_option", "bot_challenge", "human_handoff", "opt_out"}
)
# A question about what the form asks ("apa itu nik?", "nik dimana liatnya"): the NLU takes it for a
# FAQ (tanpa_nik: "no NIK yet?"), but the form's own hint answers it (what it is, where to find it).
_ABOUT = {
    NIK_SLOT: re.compile(r"\bnik\b", re.IGNORECASE),
    BIRTH_DATE_SLOT: re.compile(r"\b(?:tanggal|tgl|tahun|thn)\s*lahir\b", re.IGNORECASE),
}
# Six digits or more in one number: someone typing (part of) an NIK, whatever the NLU made of it.
_NIK_LIKE_DIGITS = 6
# A one-time code as people type or paste it: 6 digits, maybe split 3 + 3.
_CODE = re.compile(r"(?<![\d])(\d{3})[ \u00a0\-]?(\d{3})(?![\d])")
_ANY_DIGIT = re.compile(r"\d")
# Events between the user's message and this validation that do not answer the message.
_NEUTRAL_ACTIONS = frozenset({FORM, "action_listen", "action_extract_slots", f"validate_{FORM}"})

RESPONSE_NO_MATCH = "utter_schedule_no_match"
RESPONSE_NO_MATCH_TEST_CHANNEL = "utter_schedule_no_match_test_channel"
RESPONSE_NOT_A_CODE = "utter_schedule_not_a_code"
RESPONSE_UNAVAILABLE = "utter_schedule_unavailable"
RESPONSE_LOCKED = "utter_schedule_locked"
LOCK_WAIT_UNKNOWN = "beberapa saat"  # {lock_wait} when the registry did not say
RESPONSE_CANCELLED = "utter_schedule_cancelled"
RESPONSE_NOTHING_TO_CANCEL = "utter_schedule_nothing_to_cancel"
RESPONSE_EXPIRED = "utter_schedule_expired"
RESPONSE_NO_APPOINTMENT = "utter_schedule_no_appointment"
ASKED_AGAIN_SUFFIX = "_again"  # utter_ask_<slot>_again: the short hint when a slot is asked again
STUCK_SUFFIX = "_stuck"  # utter_ask_<slot>_stuck: instead of the hint just sent, the ways out
# Nothing that looks like an answer at all ("hmm", "apa itu nik?"): the short hint says what is
# wanted, so the rejection ("Saya tidak menemukan NIK di pesan Anda") would only say it twice.
_SAID_BY_THE_HINT = frozenset({NikProblem.NO_NUMBER, DateProblem.NO_DATE})
HOW_TO_REGISTER_TOPIC = "cara_daftar"  # a FAQ answer: sent like every answer, with the way on

# Used only when the environment has no usable key: the lookup then apologises anyway, but the
# form keeps working and nothing is stored unsealed.
_FALLBACK_KEY = secrets.token_bytes(32)
_FALLBACK_TTL_SECONDS = 1800


def read_code(text: str) -> str | None:
    """The 6-digit code in a message ("123456", "123 456", "kodenya 123-456"), or None (also for two)."""
    found = {first + second for first, second in _CODE.findall(text)}
    return found.pop() if len(found) == 1 else None


def input_channel(tracker: Tracker) -> str:
    """Rasa's name for the channel of the latest message ("whatsapp", "rest", ...)."""
    return str(tracker.get_latest_input_channel() or "rest")


def today_in_indonesia() -> date:
    return datetime.now(TIMEZONE).date()


def sealer_from(settings: ActionSettings | None) -> Sealer:
    if settings is None:
        return Sealer(_FALLBACK_KEY, _FALLBACK_TTL_SECONDS)
    return Sealer(settings.seal_key(), settings.schedule_slot_ttl_seconds)


def _settings_or_none() -> ActionSettings | None:
    try:
        return load_settings()
    except SettingsError as error:
        log.error("schedule check: action server settings incomplete: %s", error)
        return None


def _latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _answers_latest_message(tracker: Tracker) -> bool:
    """Whether this validation reads a fresh message, not a return to the form after a FAQ or a retry."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "bot" or (kind == "action" and event.get("name") not in _NEUTRAL_ACTIONS):
            return False
    return False


def _has_nik_like_number(text: str) -> bool:
    """Whether the message holds a number (read as core/personal_data.py reads one) as long as an NIK try."""
    return any(len(chain.digits) >= _NIK_LIKE_DIGITS for chain in digit_chains(text))


def _intent(tracker: Tracker) -> str | None:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name")


def _is_interruption(tracker: Tracker) -> bool:
    return _intent(tracker) in INTERRUPTIONS


def _leaves_for_a_rule(tracker: Tracker, slot: str) -> bool:
    """Whether a message with no answer in it goes to a rule (a FAQ, batal, the menu ...), rather than
    being read as a failed answer that gets the short hint: a "FAQ" about the asked slot itself stays."""
    if not _is_interruption(tracker):
        return False
    return _intent(tracker) != "faq" or not _ABOUT[slot].search(_latest_text(tracker))


class ValidateScheduleForm(FormValidationAction):
    """Reads the NIK and the birth date from what people type, and says exactly what is wrong."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """NIK and birth date; only the code while a code sent to the number on file is awaited."""
        if tracker.get_slot(CHALLENGE_SLOT):
            return [CODE_SLOT]
        return domain_slots

    async def extract_schedule_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answers_latest_message(tracker) or tracker.get_slot(REQUESTED_SLOT) != CODE_SLOT:
            return {}
        text = _latest_text(tracker)
        if _is_interruption(tracker) and not _ANY_DIGIT.search(text):
            return {}
        code = read_code(text)
        if code is None:
            dispatcher.utter_message(response=RESPONSE_NOT_A_CODE)
            return {CODE_SLOT: None}
        return {CODE_SLOT: sealer_from(_settings_or_none()).seal(code, tracker.sender_id)}

    async def validate_schedule_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Extraction already checked and sealed the value."""
        return {CODE_SLOT: value}

    async def extract_schedule_nik(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answers_latest_message(tracker):
            return {}
        text = _latest_text(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested is None:
            # The message that starts the form ("cek jadwal NIK 3174...") may already hold the NIK.
            found = parse_nik(text)
            return self._sealed(found, text, tracker) if isinstance(found, Nik) else {}
        if requested != NIK_SLOT or (
            _leaves_for_a_rule(tracker, NIK_SLOT) and not _has_nik_like_number(text)
        ):
            return {}
        found = parse_nik(text)
        if isinstance(found, NikRejection):
            _explain(dispatcher, tracker, found.problem, found.message)
            return {NIK_SLOT: None}
        return self._sealed(found, text, tracker)

    async def extract_schedule_birth_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answers_latest_message(tracker) or tracker.get_slot(REQUESTED_SLOT) != BIRTH_DATE_SLOT:
            return {}
        text = _latest_text(tracker)
        if _leaves_for_a_rule(tracker, BIRTH_DATE_SLOT) and not _looks_like_a_date(text):
            return {}
        born = parse_birth_date(text, today_in_indonesia())
        if isinstance(born, DateRejection):
            _explain(dispatcher, tracker, born.problem, born.message)
            return {BIRTH_DATE_SLOT: None}
        return {BIRTH_DATE_SLOT: sealer_from(_settings_or_none()).seal(born.isoformat(), tracker.sender_id)}

    async def validate_schedule_nik(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Extraction already checked and sealed the value."""
        return {NIK_SLOT: value}

    async def validate_schedule_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Extraction already checked and sealed the value."""
        return {BIRTH_DATE_SLOT: value}

    @staticmethod
    def _sealed(nik: Nik, text: str, tracker: Tracker) -> dict[str, Any]:
        """The NIK, and the birth date too when the same message has one: one question fewer."""
        sealer = sealer_from(_settings_or_none())
        slots: dict[str, Any] = {NIK_SLOT: sealer.seal(nik.digits, tracker.sender_id)}
        born = parse_birth_date(text, today_in_indonesia())
        if isinstance(born, date):
            slots[BIRTH_DATE_SLOT] = sealer.seal(born.isoformat(), tracker.sender_id)
        return slots


def _explain(dispatcher: CollectingDispatcher, tracker: Tracker, problem: str, message: str) -> None:
    """Why the message is no NIK or date, unless the hint that follows says it anyway, or it was
    just said: the same words twice in a row read as a bot that did not listen (the hint after
    them then changes too, see ``_AskForSlot``)."""
    if problem in _SAID_BY_THE_HINT or any(said.text == message for said in said_lately(tracker.events)):
        return
    dispatcher.utter_message(text=message)


def _said_this_turn(tracker: Tracker) -> bool:
    """Whether the bot has already spoken since the person's latest message (a no-match, "expired")."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


class _AskForSlot(Action, ABC):
    """Asks for one slot of the form: the whole explanation the first time, a short hint after.

    The form asks again whenever a message did not fill the slot (the validation has already said
    what was wrong); repeating the whole introduction then reads like the bot did not listen, and
    hides the way out. Rasa hands this action the tracker before the form's new ``requested_slot``
    is set, so the slot already being requested means: asked before, in this run of the form; so
    does a message the bot sent this turn (the lookup's "no match, once more" opens the form again).
    The hint itself is never sent twice in a row: the second time it names the ways out instead.
    """

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form's slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = f"utter_ask_{self.slot}"
        if tracker.get_slot(REQUESTED_SLOT) == self.slot or _said_this_turn(tracker):
            hint = question + ASKED_AGAIN_SUFFIX
            question = question + STUCK_SUFFIX if repeats(tracker.events, hint) else hint
        dispatcher.utter_message(response=question)
        return []


class ActionAskScheduleNik(_AskForSlot):
    slot = NIK_SLOT


class ActionAskScheduleBirthDate(_AskForSlot):
    slot = BIRTH_DATE_SLOT


class ActionLookupSchedule(Action):
    """Asks the registry once the form has both answers, answers the person, and forgets both."""

    def name(self) -> str:
        return "action_lookup_schedule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = _settings_or_none()
        if settings is None:
            return _unavailable(dispatcher)
        sealer = sealer_from(settings)
        if tracker.get_slot(CHALLENGE_SLOT):
            return await self._check_code(dispatcher, tracker, settings, sealer)
        nik = sealer.unseal(tracker.get_slot(NIK_SLOT), tracker.sender_id)
        born = sealer.unseal(tracker.get_slot(BIRTH_DATE_SLOT), tracker.sender_id)
        if nik is None or born is None:
            log.info("schedule lookup: the collected answers expired; asking again")
            dispatcher.utter_message(response=RESPONSE_EXPIRED)
            return [*forget_identity(), FollowupAction(FORM)]
        client = RegistryClient.from_settings(settings)
        try:
            result = await client.lookup(
                nik, date.fromisoformat(born), tracker.sender_id, input_channel(tracker)
            )
        except RegistryRefused as error:
            log.error("schedule lookup failed: %s", error)
            return _unavailable(dispatcher)
        except RegistryError as error:
            log.warning("schedule lookup failed: %s", error)
            return _unavailable(dispatcher)
        if isinstance(result, Schedule):
            log.info("schedule lookup: found")
            return _answer(dispatcher, result, tracker.sender_id)
        if isinstance(result, CodeSent):
            log.info("schedule lookup: a code went to the number on file; the form asks for it")
            dispatcher.utter_message(text=result.message)
            challenge = sealer.seal(result.challenge_id, tracker.sender_id)
            return [*forget_nik_and_birth_date(), SlotSet(CHALLENGE_SLOT, challenge), FollowupAction(FORM)]
        if isinstance(result, NoMatch):
            log.info("schedule lookup: no match; offering another try")
            dispatcher.utter_message(
                response=RESPONSE_NO_MATCH_TEST_CHANNEL if result.whatsapp_only else RESPONSE_NO_MATCH
            )
            return [*forget_identity(), FollowupAction(FORM)]
        return _locked(dispatcher, result)

    async def _check_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, settings: ActionSettings, sealer: Sealer
    ) -> list[EventType]:
        """The code step: the record, the code asked again, or the check started over."""
        challenge = sealer.unseal(tracker.get_slot(CHALLENGE_SLOT), tracker.sender_id)
        code = sealer.unseal(tracker.get_slot(CODE_SLOT), tracker.sender_id)
        if challenge is None or code is None:
            log.info("schedule lookup: the code step expired; starting again")
            dispatcher.utter_message(response=RESPONSE_EXPIRED)
            return [*forget_identity(), FollowupAction(FORM)]
        try:
            result = await RegistryClient.from_settings(settings).check_code(
                challenge, code, tracker.sender_id
            )
        except RegistryError as error:
            log.warning("code check failed: %s", error)
            return _unavailable(dispatcher)
        if isinstance(result, Schedule):
            log.info("schedule lookup: found after the code")
            return _answer(dispatcher, result, tracker.sender_id)
        if isinstance(result, WrongCode):
            log.info("schedule lookup: wrong code; asking again")
            dispatcher.utter_message(text=result.message)
            return [SlotSet(CODE_SLOT, None), FollowupAction(FORM)]
        if isinstance(result, CodeEnded):
            log.info("schedule lookup: the code ended; starting again")
            dispatcher.utter_message(text=result.message)
            return [*forget_identity(), FollowupAction(FORM)]
        return _locked(dispatcher, result)


def _answer(dispatcher: CollectingDispatcher, schedule: Schedule, sender_id: str) -> list[EventType]:
    """The record, and how to register when no appointment is booked; then forget what was typed,
    and offer "Cek data saya" with the record token held sealed (actions/correction.py)."""
    dispatcher.utter_message(text=describe_schedule(schedule))
    if schedule.next_appointment is None:
        dispatcher.utter_message(response=RESPONSE_NO_APPOINTMENT)
        utter_answer(dispatcher, HOW_TO_REGISTER_TOPIC)
    return [*forget_identity(), *offer_data_check(dispatcher, schedule, sender_id)]


def _unavailable(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
    return forget_identity()


def _locked(dispatcher: CollectingDispatcher, locked: Locked) -> list[EventType]:
    log.info("schedule lookup: locked")
    _say_locked(dispatcher, locked)
    return forget_identity()


class ActionCancelSchedule(Action):
    """``batal``: stop the check and forget whatever was typed for it.

    With no check running (``batal`` again, or out of the blue) it says so rather than claiming to
    have cancelled something; said once more right after that, it is an uncertain turn.
    """

    def name(self) -> str:
        return "action_cancel_schedule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if _check_was_running(tracker):
            dispatcher.utter_message(response=RESPONSE_CANCELLED)
        elif repeats(tracker.events, RESPONSE_NOTHING_TO_CANCEL):
            return [*forget_identity(), *uncertain_turn(dispatcher, tracker, domain)]
        else:
            dispatcher.utter_message(response=RESPONSE_NOTHING_TO_CANCEL)
        return forget_identity()


def _check_was_running(tracker: Tracker) -> bool:
    """The form was stopped this turn (data/rules/schedule.yml deactivates it first), or something
    typed for it is still held."""
    if any(tracker.get_slot(name) is not None for name in IDENTITY_SLOTS):
        return True
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") is None:
            return True
    return False


def _say_locked(dispatcher: CollectingDispatcher, locked: Locked) -> None:
    """How long the lock lasts and whom to call, in the domain's words (contacts from its one block)."""
    seconds = locked.retry_after_seconds
    wait = format_duration(seconds) if seconds else LOCK_WAIT_UNKNOWN
    dispatcher.utter_message(response=RESPONSE_LOCKED, lock_wait=wait)


def describe_schedule(schedule: Schedule) -> str:
    """Doses given and the next appointment, the way a puskesmas would write them."""
    lines = [f"*Data vaksinasi {schedule.name_masked}*", ""]
    if schedule.doses:
        lines.append("Dosis yang sudah diterima:")
        lines.extend(
            f"• Dosis {dose.number}: {dose.vaccine_brand}, {format_date(dose.given_on)}, {dose.facility}"
            for dose in schedule.doses
        )
    else:
        lines.append("Belum ada dosis yang tercatat.")
    upcoming = schedule.next_appointment
    if upcoming is not None:
        lines += [
            "",
            f"*Jadwal berikutnya: dosis {upcoming.dose_number}*",
            f"{format_day_and_date(upcoming.on)} pukul {format_time(upcoming.at)}",
            upcoming.facility_name,
            upcoming.facility_address,
            "",
            "Bawa KTP dan bukti vaksin sebelumnya. Jika berhalangan, hubungi fasilitas tersebut.",
        ]
    return "\n".join(lines)
