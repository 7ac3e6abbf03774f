"""Slot and response names of the outreach flows (notice replies, data check and correction, KIPI
report), for both sides of the assistant.

The action server (actions/outreach.py, correction.py, kipi.py) fills these slots, sealed; the Rasa
server's tracker store must know which messages carry what a person typed for a correction or a
side-effect report (a new name, a phone number, symptoms: personal or health data), to store them
withheld: a user message that answers one of ``PRIVATE_ANSWER_SLOTS`` (the form's
``requested_slot`` was that slot when it came), and a bot message of one of ``PRIVATE_RESPONSES``
(the confirmations read the answers back so the person can check them). The two run in different
Pythons, so the names live here, once; the domain (rasa_project/domain/outreach.yml) declares them.
"""

from __future__ import annotations

from typing import Final

# The answered notice: its kind only ("appointment_reminder", ...), nothing personal.
NOTICE_KIND_SLOT: Final = "notice_kind"
# The registry's record token and the masked data on file, sealed, from the schedule lookup.
RECORD_ACCESS_SLOT: Final = "record_access"

CORRECTION_FORM: Final = "correction_form"
CORRECTION_FIELD_SLOT: Final = "correction_field"
CORRECTION_VALUE_SLOT: Final = "correction_value"
CORRECTION_CONFIRMED_SLOT: Final = "correction_confirmed"
CORRECTION_SLOTS: Final = (CORRECTION_FIELD_SLOT, CORRECTION_VALUE_SLOT, CORRECTION_CONFIRMED_SLOT)

KIPI_FORM: Final = "kipi_form"
KIPI_SYMPTOMS_SLOT: Final = "kipi_symptoms"
KIPI_ONSET_SLOT: Final = "kipi_onset"
KIPI_SEVERITY_SLOT: Final = "kipi_severity"
KIPI_PLACE_SLOT: Final = "kipi_place"
KIPI_CONFIRMED_SLOT: Final = "kipi_confirmed"
KIPI_SLOTS: Final = (
    KIPI_SYMPTOMS_SLOT,
    KIPI_ONSET_SLOT,
    KIPI_SEVERITY_SLOT,
    KIPI_PLACE_SLOT,
    KIPI_CONFIRMED_SLOT,
)

# Answers stored withheld by the tracker store (the whole message, not only its numbers).
PRIVATE_ANSWER_SLOTS: Final = frozenset(
    {CORRECTION_VALUE_SLOT, KIPI_SYMPTOMS_SLOT, KIPI_ONSET_SLOT, KIPI_PLACE_SLOT}
)
# Bot messages that read those answers back (text and variables withheld in storage).
CORRECTION_CONFIRM_RESPONSE: Final = "utter_correction_confirm"
KIPI_CONFIRM_RESPONSE: Final = "utter_kipi_confirm"
PRIVATE_RESPONSES: Final = frozenset({CORRECTION_CONFIRM_RESPONSE, KIPI_CONFIRM_RESPONSE})
