"""Reporting a side effect after vaccination (KIPI) by chat (issue #13.4).

Safety first: if the message that starts the report, or any answer after it, names a danger sign
(core/kipi.py), the emergency advice (*segera ke IGD terdekat atau hubungi 119*) comes before any
question; the report goes on only if the person answers. Choosing *Berat* brings it again.
``kipi_form`` asks for the symptoms, when they began, how bad they are and where the vaccination
was, reads it all back, and ``POST /v1/kipi`` files it: tied to the record when the schedule check
found it in this conversation (record token), else anonymous. The answer gives the reference and
the contacts of the one contact block.

Symptoms are health data: every answer waits only sealed, is cleared after sending and on
``batal``, and nothing of it is logged.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.correction import asked_before, record_access
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
from actions.registry_client import Filed, Invalid, RegistryClient, RegistryError
from core.kipi import ONSET_MAX, PLACE_MAX, SEVERE, SYMPTOMS_MAX, is_severe, severity_of
from core.outreach_slots import (
    KIPI_CONFIRM_RESPONSE,
    KIPI_CONFIRMED_SLOT,
    KIPI_FORM,
    KIPI_ONSET_SLOT,
    KIPI_PLACE_SLOT,
    KIPI_SEVERITY_SLOT,
    KIPI_SLOTS,
    KIPI_SYMPTOMS_SLOT,
)
from core.schedule_slots import REQUESTED_SLOT

log = logging.getLogger(__name__)

RESPONSE_EMERGENCY = "utter_kipi_emergency"
RESPONSE_INTRO = "utter_kipi_intro"
RESPONSE_CUT = "utter_kipi_cut"
RESPONSE_FILED = "utter_kipi_filed"
RESPONSE_UNAVAILABLE = "utter_kipi_unavailable"
RESPONSE_CANCELLED = "utter_kipi_cancelled"
AGAIN = "_again"
# The free-text answers and how long each may be (the registry's columns).
TEXT_LIMITS = {KIPI_SYMPTOMS_SLOT: SYMPTOMS_MAX, KIPI_ONSET_SLOT: ONSET_MAX, KIPI_PLACE_SLOT: PLACE_MAX}
SEVERITY_LABELS = {"ringan": "Ringan", "sedang": "Sedang", "berat": "Berat"}


def warn_if_severe(dispatcher: CollectingDispatcher, text: str) -> bool:
    """The emergency advice, first, when ``text`` names a danger sign."""
    if is_severe(text):
        dispatcher.utter_message(response=RESPONSE_EMERGENCY)
        return True
    return False


class ActionStartKipi(Action):
    """The emergency advice if the message calls for it, else a short introduction; the form follows
    (data/rules/outreach.yml)."""

    def name(self) -> str:
        return "action_start_kipi"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if warn_if_severe(dispatcher, latest_text(tracker)):
            log.info("kipi report: danger signs in the first message; emergency advice sent")
        else:
            dispatcher.utter_message(response=RESPONSE_INTRO)
        return forget(KIPI_SLOTS)


class ValidateKipiForm(FormValidationAction):
    """Reads each answer, warns at once on danger signs, and seals what was typed."""

    def name(self) -> str:
        return f"validate_{KIPI_FORM}"

    def _fresh(self, tracker: Tracker, slot: str) -> bool:
        return (
            tracker.get_slot(REQUESTED_SLOT) == slot
            and answers_latest_message(tracker, KIPI_FORM)
            and not is_leaving(tracker)
        )

    def _text_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any]:
        if not self._fresh(tracker, slot):
            return {}
        text = " ".join(latest_text(tracker).split())
        sealer = outreach_sealer(outreach_settings())
        if not has_words(text) or sealer is None:
            return {slot: None}  # the form asks again, with the short hint
        warn_if_severe(dispatcher, text)
        limit = TEXT_LIMITS[slot]
        value, was_cut = cut(text, limit)
        if was_cut:
            dispatcher.utter_message(response=RESPONSE_CUT, limit=str(limit))
        return {slot: sealer.seal(value, tracker.sender_id)}

    async def extract_kipi_symptoms(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(dispatcher, tracker, KIPI_SYMPTOMS_SLOT)

    async def extract_kipi_onset(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(dispatcher, tracker, KIPI_ONSET_SLOT)

    async def extract_kipi_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(dispatcher, tracker, KIPI_PLACE_SLOT)

    async def extract_kipi_severity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._fresh(tracker, KIPI_SEVERITY_SLOT):
            return {}
        text = latest_text(tracker)
        severity = severity_of(text)
        if severity == SEVERE or is_severe(text):
            dispatcher.utter_message(response=RESPONSE_EMERGENCY)
        sealer = outreach_sealer(outreach_settings())
        if severity is None or sealer is None:
            return {KIPI_SEVERITY_SLOT: None}
        return {KIPI_SEVERITY_SLOT: sealer.seal(severity, tracker.sender_id)}

    async def extract_kipi_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._fresh(tracker, KIPI_CONFIRMED_SLOT):
            return {}
        return {KIPI_CONFIRMED_SLOT: confirmation(tracker)}

    async def validate_kipi_symptoms(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {KIPI_SYMPTOMS_SLOT: value}

    async def validate_kipi_onset(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {KIPI_ONSET_SLOT: value}

    async def validate_kipi_severity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {KIPI_SEVERITY_SLOT: value}

    async def validate_kipi_place(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {KIPI_PLACE_SLOT: value}

    async def validate_kipi_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {KIPI_CONFIRMED_SLOT: value}


class _AskKipi(Action, ABC):
    """The question the first time, the short hint when the form asks it again."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form's slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        again = asked_before(tracker, self.slot)
        dispatcher.utter_message(response=f"utter_ask_{self.slot}" + (AGAIN if again else ""))
        return []


class ActionAskKipiSymptoms(_AskKipi):
    slot = KIPI_SYMPTOMS_SLOT


class ActionAskKipiOnset(_AskKipi):
    slot = KIPI_ONSET_SLOT


class ActionAskKipiSeverity(_AskKipi):
    slot = KIPI_SEVERITY_SLOT


class ActionAskKipiPlace(_AskKipi):
    slot = KIPI_PLACE_SLOT


def _answers(tracker: Tracker) -> dict[str, str] | None:
    """The four answers unsealed, or None when any expired (or is not this conversation's)."""
    sealer = outreach_sealer(outreach_settings())
    if sealer is None:
        return None
    answers = {
        slot: sealer.unseal(tracker.get_slot(slot), tracker.sender_id)
        for slot in (KIPI_SYMPTOMS_SLOT, KIPI_ONSET_SLOT, KIPI_SEVERITY_SLOT, KIPI_PLACE_SLOT)
    }
    if any(value is None for value in answers.values()):
        return None
    return {slot: str(value) for slot, value in answers.items()}


class ActionAskKipiConfirmed(Action):
    """The report read back once (the tracker store withholds this message); a short hint after."""

    def name(self) -> str:
        return f"action_ask_{KIPI_CONFIRMED_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if asked_before(tracker, KIPI_CONFIRMED_SLOT):
            dispatcher.utter_message(response=KIPI_CONFIRM_RESPONSE + AGAIN)
            return []
        answers = _answers(tracker)
        if answers is None:
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
            return [*forget(KIPI_SLOTS), *forget([REQUESTED_SLOT])]
        dispatcher.utter_message(
            response=KIPI_CONFIRM_RESPONSE,
            symptoms=answers[KIPI_SYMPTOMS_SLOT],
            onset=answers[KIPI_ONSET_SLOT],
            severity=SEVERITY_LABELS.get(answers[KIPI_SEVERITY_SLOT], answers[KIPI_SEVERITY_SLOT]),
            place=answers[KIPI_PLACE_SLOT],
        )
        return []


class ActionSubmitKipi(Action):
    """Files the report (with the record token when one is held), answers with its reference, forgets it."""

    def name(self) -> str:
        return "action_submit_kipi"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = outreach_settings()
        answers = _answers(tracker)
        done = forget(KIPI_SLOTS)
        if settings is None or answers is None:
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
            return done
        held = record_access(tracker)
        try:
            result = await RegistryClient.from_settings(settings).report_kipi(
                tracker.sender_id,
                None if held is None else str(held["token"]),
                answers[KIPI_SYMPTOMS_SLOT],
                answers[KIPI_ONSET_SLOT],
                answers[KIPI_SEVERITY_SLOT],
                answers[KIPI_PLACE_SLOT],
            )
        except RegistryError as error:
            log.warning("kipi report not sent: %s", error)
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
            return done
        if isinstance(result, Filed):
            log.info("kipi report filed (%s)", "with the record" if held else "anonymous")
            dispatcher.utter_message(response=RESPONSE_FILED, reference=result.reference)
        elif isinstance(result, Invalid):
            log.info("kipi report: the registry refused the values")
            dispatcher.utter_message(response=RESPONSE_UNAVAILABLE)
        return done


class ActionCancelKipi(Action):
    """``batal`` (or ``menu``, ``berhenti``) in the report: stop, and forget what was typed for it."""

    def name(self) -> str:
        return "action_cancel_kipi"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if latest_intent(tracker) == "cancel":
            dispatcher.utter_message(response=RESPONSE_CANCELLED)
        return forget(KIPI_SLOTS)
