"""Checking the data on file and asking for a correction (issue #13.3).

After the schedule check has found the person's record, the registry's answer carries a record
token (bound to this conversation, 30 minutes) and the data on file, masked; both wait in one
sealed slot (``record_access``; ``remember_record`` is called by the schedule lookup). "Cek data
saya" shows the masked data and asks whether it is right; "Ajukan koreksi" opens
``correction_form`` (it asks nothing without a live record token): which field, the right value
(a name in letters, an Indonesian mobile number, or a dose described in words), a confirmation
that reads it back, then ``POST /v1/corrections``.
It becomes a request an officer approves or rejects, never a direct change; the outcome comes
later by template message.

Who gets here has passed the identity check, which on WhatsApp already asks for the one-time code
sent to the number on file; nothing here weakens it (without a live record token there is no form).
The requested value waits only sealed and is cleared after sending and on ``batal``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.outreach import (
    answers_latest_message,
    confirmation,
    cut,
    forget,
    has_words,
    is_leaving,
    latest_intent,
    latest_text,
    outreach_sealer,
    outreach_settings,
)
from actions.registry_client import (
    AlreadyPending,
    Filed,
    Invalid,
    RecordTokenRejected,
    RegistryClient,
    RegistryError,
    Schedule,
)
from actions.sealing import Sealer
from core.menu_words import normalised, option_number
from core.outreach_slots import (
    CORRECTION_CONFIRM_RESPONSE,
    CORRECTION_CONFIRMED_SLOT,
    CORRECTION_FIELD_SLOT,
    CORRECTION_FORM,
    CORRECTION_SLOTS,
    CORRECTION_VALUE_SLOT,
    RECORD_ACCESS_SLOT,
)
from core.schedule_slots import REQUESTED_SLOT
from core.text import clean_text

log = logging.getLogger(__name__)

NAME, PHONE, DOSE = "name", "phone", "dose"
FIELD_LABELS = {NAME: "Nama", PHONE: "Nomor HP", DOSE: "Data dosis"}
_FIELD_WORDS = {
    NAME: {"nama", "name", "nama saya", "ejaan nama", "nama lengkap"},
    PHONE: {
        "nomor hp",
        "no hp",
        "hp",
        "nomor",
        "telepon",
        "nomor telepon",
        "no telp",
        "wa",
        "nomor wa",
        "phone",
    },
    DOSE: {"data dosis", "dosis", "vaksin", "data vaksin", "dose", "riwayat dosis"},
}
_FIELD_BY_NUMBER = {1: NAME, 2: PHONE, 3: DOSE}
VALUE_MAX = 300  # the registry's requested_value column
NAME_MAX = 100
# Letters of any script, with the separators names have ("Siti Nur'aini", "A. Rahman", "Ni Made-Ayu").
_NAME = re.compile(r"[^\W\d_]+(?:[ .,'’\-]+[^\W\d_]+)*\.?")
# An Indonesian mobile: 08 / 62 8 / +62 8, then 8 to 11 more digits (10 to 13 from the 0).
_MOBILE = re.compile(r"(?:0|62)(8[1-9]\d{7,10})")

RESPONSE_OFFER_DATA_CHECK = "utter_offer_data_check"
RESPONSE_ON_FILE = "utter_data_on_file"
RESPONSE_NEEDS_LOOKUP = "utter_data_check_needs_lookup"
RESPONSE_BAD_NAME = "utter_correction_bad_name"
RESPONSE_BAD_PHONE = "utter_correction_bad_phone"
RESPONSE_EMPTY = "utter_correction_empty"
RESPONSE_CUT = "utter_correction_cut"
RESPONSE_FILED = "utter_correction_filed"
RESPONSE_PENDING = "utter_correction_pending"
RESPONSE_PENDING_NO_REFERENCE = "utter_correction_pending_no_reference"
RESPONSE_TOKEN_EXPIRED = "utter_correction_token_expired"
RESPONSE_UNAVAILABLE = "utter_correction_unavailable"
RESPONSE_CANCELLED = "utter_correction_cancelled"
ASK_FIELD = "utter_ask_correction_field"
AGAIN = "_again"


def remember_record(schedule: Schedule, sender_id: str, sealer: Sealer) -> list[EventType]:
    """The record token and the masked data on file, sealed in one slot; nothing when the registry
    sent neither (a registry without issue #13)."""
    if not schedule.record_token or schedule.on_file is None:
        return []
    on_file = schedule.on_file
    held = {
        "token": schedule.record_token,
        "on_file": {
            "name_masked": on_file.name_masked,
            "phone_masked": on_file.phone_masked,
            "birth_date_masked": on_file.birth_date_masked,
            "district": on_file.district,
        },
    }
    return [SlotSet(RECORD_ACCESS_SLOT, sealer.seal(json.dumps(held), sender_id))]


def offer_data_check(dispatcher: CollectingDispatcher, schedule: Schedule, sender_id: str) -> list[EventType]:
    """After a schedule is shown: the "Cek data saya" button, and the record remembered for it."""
    settings = outreach_settings()
    sealer = outreach_sealer(settings)
    if sealer is None:
        return []
    events = remember_record(schedule, sender_id, sealer)
    if events:
        dispatcher.utter_message(response=RESPONSE_OFFER_DATA_CHECK)
    return events


def record_access(tracker: Tracker) -> dict[str, Any] | None:
    """The held record token and data on file, or None (none held, expired, or not this conversation's)."""
    sealer = outreach_sealer(outreach_settings())
    if sealer is None:
        return None
    raw = sealer.unseal(tracker.get_slot(RECORD_ACCESS_SLOT), tracker.sender_id)
    if raw is None:
        return None
    try:
        held = json.loads(raw)
    except ValueError:
        return None
    return (
        held
        if isinstance(held, dict) and held.get("token") and isinstance(held.get("on_file"), dict)
        else None
    )


def _needs_lookup(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response=RESPONSE_NEEDS_LOOKUP)
    return [SlotSet(RECORD_ACCESS_SLOT, None), *forget(CORRECTION_SLOTS)]


class ActionShowMyData(Action):
    """ "Cek data saya": the data on file, masked, and "Data sudah benar?"."""

    def name(self) -> str:
        return "action_show_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        held = record_access(tracker)
        if held is None:
            return _needs_lookup(dispatcher)
        on_file = held["on_file"]
        dispatcher.utter_message(
            response=RESPONSE_ON_FILE,
            name_masked=str(on_file.get("name_masked") or "-"),
            phone_masked=str(on_file.get("phone_masked") or "-"),
            birth_date_masked=str(on_file.get("birth_date_masked") or "-"),
            district=str(on_file.get("district") or "-"),
        )
        return []


class ActionStartCorrection(Action):
    """ "Ajukan koreksi": a fresh form (data/rules/outreach.yml opens it next). Without a live record
    token for this conversation the form asks nothing and ``action_submit_correction`` says to check
    the schedule first (``ValidateCorrectionForm.required_slots``)."""

    def name(self) -> str:
        return "action_start_correction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return forget(CORRECTION_SLOTS)


def read_field(text: str) -> str | None:
    number = option_number(text)
    if number is not None:
        return _FIELD_BY_NUMBER.get(number)
    plain = normalised(text)
    return next((field for field, words in _FIELD_WORDS.items() if plain in words), None)


def read_name(text: str) -> str | None:
    name = " ".join(text.split())
    return name if 2 <= len(name) <= NAME_MAX and _NAME.fullmatch(name) else None


def read_phone(text: str) -> str | None:
    """An Indonesian mobile number in E.164 (``+6281234567890``), however it was typed, or None."""
    if re.search(r"[^\d\s+().\-]", text):
        return None
    digits = re.sub(r"\D", "", text)
    match = _MOBILE.fullmatch(digits)
    return f"+62{match.group(1)}" if match else None


class ValidateCorrectionForm(FormValidationAction):
    """Reads the field, the value and the confirmation; what people type waits only sealed."""

    def name(self) -> str:
        return f"validate_{CORRECTION_FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing to ask without this conversation's checked record: the form ends at once."""
        if record_access(tracker) is None:
            log.info("correction: no live record token; the schedule check comes first")
            return []
        return domain_slots

    def _reads(self, tracker: Tracker, slot: str) -> bool:
        return (
            tracker.get_slot(REQUESTED_SLOT) == slot
            and answers_latest_message(tracker, CORRECTION_FORM)
            and not is_leaving(tracker)
        )

    async def extract_correction_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._reads(tracker, CORRECTION_FIELD_SLOT):
            return {}
        return {CORRECTION_FIELD_SLOT: read_field(latest_text(tracker))}

    async def extract_correction_value(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._reads(tracker, CORRECTION_VALUE_SLOT):
            return {}
        sealer = outreach_sealer(outreach_settings())
        if sealer is None:
            return {CORRECTION_VALUE_SLOT: None}
        text, field = latest_text(tracker), tracker.get_slot(CORRECTION_FIELD_SLOT)
        if not has_words(text):
            dispatcher.utter_message(response=RESPONSE_EMPTY)
            return {CORRECTION_VALUE_SLOT: None}
        value: str | None
        if field == NAME:
            value = read_name(text)
            if value is None:
                dispatcher.utter_message(response=RESPONSE_BAD_NAME)
        elif field == PHONE:
            value = read_phone(text)
            if value is None:
                dispatcher.utter_message(response=RESPONSE_BAD_PHONE)
        else:
            value, was_cut = cut(" ".join(clean_text(text).split()), VALUE_MAX)
            if was_cut:
                dispatcher.utter_message(response=RESPONSE_CUT, limit=str(VALUE_MAX))
        if value is None:
            return {CORRECTION_VALUE_SLOT: None}
        return {CORRECTION_VALUE_SLOT: sealer.seal(value, tracker.sender_id)}

    async def extract_correction_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._reads(tracker, CORRECTION_CONFIRMED_SLOT):
            return {}
        return {CORRECTION_CONFIRMED_SLOT: confirmation(tracker)}

    async def validate_correction_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {CORRECTION_FIELD_SLOT: value}

    async def validate_correction_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {CORRECTION_VALUE_SLOT: value}

    async def validate_correction_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {CORRECTION_CONFIRMED_SLOT: value}


def asked_before(tracker: Tracker, slot: str) -> bool:
    """The form asks ``slot`` again (Rasa hands the ask action the tracker before it changes the slot)."""
    return tracker.get_slot(REQUESTED_SLOT) == slot


class ActionAskCorrectionField(Action):
    def name(self) -> str:
        return f"action_ask_{CORRECTION_FIELD_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        again = asked_before(tracker, CORRECTION_FIELD_SLOT)
        dispatcher.utter_message(response=ASK_FIELD + (AGAIN if again else ""))
        return []


class ActionAskCorrectionValue(Action):
    """The question for the field chosen: a name, a phone number or a dose."""

    def name(self) -> str:
        return f"action_ask_{CORRECTION_VALUE_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if asked_before(tracker, CORRECTION_VALUE_SLOT):
            return []  # the check that refused the answer already said what to write, and "batal"
        field = tracker.get_slot(CORRECTION_FIELD_SLOT)
        dispatcher.utter_message(
            response=f"utter_ask_{CORRECTION_VALUE_SLOT}_{field if field in FIELD_LABELS else DOSE}"
        )
        return []


class ActionAskCorrectionConfirmed(Action):
    """What will be sent, read back once (the tracker store withholds this message); a short hint after."""

    def name(self) -> str:
        return f"action_ask_{CORRECTION_CONFIRMED_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if asked_before(tracker, CORRECTION_CONFIRMED_SLOT):
            dispatcher.utter_message(response=CORRECTION_CONFIRM_RESPONSE + AGAIN)
            return []
        sealer = outreach_sealer(outreach_settings())
        value = (
            None
            if sealer is None
            else sealer.unseal(tracker.get_slot(CORRECTION_VALUE_SLOT), tracker.sender_id)
        )
        field = str(tracker.get_slot(CORRECTION_FIELD_SLOT) or "")
        if value is None or field not in FIELD_LABELS:
            dispatcher.utter_message(response=RESPONSE_TOKEN_EXPIRED)
            return [*forget(CORRECTION_SLOTS), SlotSet(REQUESTED_SLOT, None)]
        dispatcher.utter_message(
            response=CORRECTION_CONFIRM_RESPONSE, field_label=FIELD_LABELS[field], requested_value=value
        )
        return []


class ActionSubmitCorrection(Action):
    """Sends the request with the record token, says what happened, and forgets what was typed."""

    def name(self) -> str:
        return "action_submit_correction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = outreach_settings()
        sealer = outreach_sealer(settings)
        held = record_access(tracker)
        field = str(tracker.get_slot(CORRECTION_FIELD_SLOT) or "")
        value = (
            None
            if sealer is None
            else sealer.unseal(tracker.get_slot(CORRECTION_VALUE_SLOT), tracker.sender_id)
        )
        done = forget(CORRECTION_SLOTS)
        if settings is None:
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
            return done
        if held is None and field not in FIELD_LABELS:
            return _needs_lookup(dispatcher)  # no record checked in this conversation: nothing was asked
        if held is None or value is None or field not in FIELD_LABELS:
            log.info("correction: the record token or the answers expired before sending")
            return [*done, *_token_expired(dispatcher)]
        try:
            result = await RegistryClient.from_settings(settings).request_correction(
                str(held["token"]), tracker.sender_id, field, value
            )
        except RegistryError as error:
            log.warning("correction not sent: %s", error)
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
            return done
        if isinstance(result, Filed):
            log.info("correction filed (%s)", field)
            dispatcher.utter_message(response=RESPONSE_FILED, reference=result.reference)
        elif isinstance(result, AlreadyPending):
            log.info("correction: the same request is already pending")
            if result.reference:
                dispatcher.utter_message(response=RESPONSE_PENDING, reference=result.reference)
            else:
                dispatcher.utter_message(response=RESPONSE_PENDING_NO_REFERENCE)
        elif isinstance(result, RecordTokenRejected):
            log.info("correction: the registry refused the record token (expired or not this conversation's)")
            return [*done, *_token_expired(dispatcher)]
        elif isinstance(result, Invalid):
            log.info("correction: the registry refused the value")
            dispatcher.utter_message(text=result.message or "Maaf, permintaan koreksi tidak dapat diterima.")
        return done


def _token_expired(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response=RESPONSE_TOKEN_EXPIRED)
    return [SlotSet(RECORD_ACCESS_SLOT, None)]


class ActionCancelCorrection(Action):
    """``batal`` (or ``menu``, ``berhenti``) in the form: stop, and forget what was typed for it."""

    def name(self) -> str:
        return "action_cancel_correction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if latest_intent(tracker) == "cancel":
            dispatcher.utter_message(response=RESPONSE_CANCELLED)
        return forget(CORRECTION_SLOTS)
