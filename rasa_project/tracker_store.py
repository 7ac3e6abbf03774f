"""A SQL tracker store that never writes an NIK or a birth date.

The tracker store keeps conversations for good, and people type their NIK and birth date into the
schedule check. Before events are persisted (and streamed to an event broker, if one is set), the
user's text, the text in its parse data, entity values and slot values are redacted: any run of 10
or more digits (an NIK with or without spaces, dots or dashes between groups; a phone number) and
any full date in the forms the schedule check accepts. The conversation in memory is untouched, so
the turn that is running still sees what was typed. The form keeps its answers only sealed
(actions/sealing.py), which this redaction leaves alone.

Configured in rasa_project/endpoints.yml as ``type: rasa_project.tracker_store.RedactingSQLTrackerStore``.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

NIK_PLACEHOLDER = "[NIK]"
NUMBER_PLACEHOLDER = "[NOMOR]"
DATE_PLACEHOLDER = "[TANGGAL]"
NIK_DIGITS = 16
MIN_REDACTED_DIGITS = 10

# Month words the schedule check accepts (actions/dates.py MONTHS; a test keeps the two in step).
MONTH_WORDS = (
    "januari", "jan", "january", "februari", "pebruari", "feb", "peb", "febr", "february",
    "maret", "mar", "march", "april", "apr", "mei", "may", "juni", "jun", "june", "juli", "jul", "july",
    "agustus", "agu", "agt", "ags", "agst", "agus", "aug", "august", "september", "sep", "sept",
    "oktober", "okt", "oct", "october", "november", "nopember", "nov", "nop",
    "desember", "des", "dec", "december",
)  # fmt: skip

_DIGIT_RUN = re.compile(r"\d+(?:[ \u00a0.\-]{1,3}\d+)*")
_MONTH = "|".join(sorted((re.escape(word) for word in MONTH_WORDS), key=len, reverse=True))
_DATES = re.compile(
    "|".join(
        (
            rf"(?<!\d)\d{{1,2}}(?:\s*[-/.]\s*|\s+)(?:{_MONTH})\b\.?(?:\s*[-/.,]\s*|\s+)'?\d{{2,4}}(?!\d)",
            r"(?<!\d)\d{4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}(?!\d)",  # 1985-08-17
            r"(?<!\d)\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}(?!\d)",  # 17-08-1985, 17/8/85
            r"(?<!\d)\d{1,2}\s+\d{1,2}\s+\d{4}(?!\d)",  # 17 08 1985
            r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}(?!\d)",  # 17081985
        )
    ),
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """The text with long numbers and full dates replaced by placeholders."""

    def number(match: re.Match[str]) -> str:
        digits = sum(character.isdigit() for character in match.group())
        if digits >= NIK_DIGITS:
            return NIK_PLACEHOLDER
        return NUMBER_PLACEHOLDER if digits >= MIN_REDACTED_DIGITS else match.group()

    return _DATES.sub(DATE_PLACEHOLDER, _DIGIT_RUN.sub(number, text))


def redact_value(value: Any) -> Any:
    """Strings redacted wherever they sit in a slot value (lists, dicts)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    return value


def redact_event(event: Event) -> Event:
    """A redacted copy of a user message or slot event; any other event as it is."""
    if isinstance(event, UserUttered):
        data = event.as_dict()
        if data.get("text"):
            data["text"] = redact_text(data["text"])
        parse_data = data.get("parse_data") or {}
        if parse_data.get("text"):
            parse_data["text"] = redact_text(parse_data["text"])
        for entity in parse_data.get("entities") or []:
            entity["value"] = redact_value(entity.get("value"))
        return Event.from_parameters(data) or event
    if isinstance(event, SlotSet) and event.value is not None:
        data = event.as_dict()
        data["value"] = redact_value(data["value"])
        return Event.from_parameters(data) or event
    return event


def redacted_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """The same conversation with every event redacted; the live tracker is left alone."""
    return DialogueStateTracker.from_events(
        tracker.sender_id,
        [redact_event(event) for event in tracker.events],
        slots=tracker.slots.values(),
        sender_source=tracker.sender_source,
    )


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, given only redacted events to keep."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(redacted_copy(tracker))
