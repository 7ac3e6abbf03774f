"""A SQL tracker store that never writes an NIK or a birth date.

The tracker store keeps conversations for good, and people type their NIK and birth date into the
schedule check. Before events are persisted (and streamed to an event broker, if one is set), the
user's text, its parse data and metadata, and slot values are redacted by core/personal_data.py:
NIKs, phone and other long numbers and full dates however they are spelled (separators, line breaks,
month words, glued), and e-mail addresses. The conversation in memory is untouched, so the turn
that is running still sees what was typed. The form keeps its answers only sealed
(actions/sealing.py), which this redaction leaves alone. A message that answers "type the code"
(the form's ``requested_slot`` was the code slot when it came) is stored with every number in it
replaced by ``[KODE]``: a one-time code still valid is as good as the NIK and birth date. An answer to
a question of the correction or KIPI forms (``core.outreach_slots.PRIVATE_ANSWER_SLOTS``: a new name
or number, symptoms) is stored whole as ``[DIRAHASIAKAN]``, and so are the bot messages that read
those answers back (``PRIVATE_RESPONSES``): they are personal or health data the registry keeps,
not the transcript.

Configured in rasa_project/endpoints.yml as ``type: rasa_project.tracker_store.RedactingSQLTrackerStore``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import AllSlotsReset, BotUttered, Event, Restarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sqlalchemy.orm import Session

from core.outreach_slots import PRIVATE_ANSWER_SLOTS, PRIVATE_RESPONSES
from core.personal_data import (
    WITHHELD_PLACEHOLDER,
    redact_code_answer,
    redact_message,
    redact_text,
    redact_value,
)
from core.schedule_slots import CODE_SLOT, REQUESTED_SLOT, SEALED_VALUE
from rasa_project.channels.failure_log import failure_summary


def _withheld(_text: str) -> str:
    return WITHHELD_PLACEHOLDER


def redact_event(event: Event, answers_code: bool = False, private: bool = False) -> Event:
    """A redacted copy of a user message or slot event (sealed values kept); any other event as it is.

    Of a user message: its text (as a whole message: a lone "3174" too), entity values, and the
    metadata the channel stored with it (a REST client may send any), also where the parse data
    repeats them. Identifiers (message ids) are left as they are: redacting them would only break them.
    ``answers_code``: the message answers "type the code", so every number in it is hidden.
    ``private``: the message answers a correction or KIPI question, so all of it is withheld.
    A bot message that reads such answers back is withheld too (text and template variables).
    """
    if isinstance(event, BotUttered) and event.metadata.get("utter_action") in PRIVATE_RESPONSES:
        data = event.as_dict()
        data["text"] = WITHHELD_PLACEHOLDER
        data["data"] = {}
        data["metadata"] = {"utter_action": event.metadata["utter_action"]}
        return Event.from_parameters(data) or event
    if isinstance(event, UserUttered):
        whole, parts = (
            (_withheld, _withheld)
            if private
            else (redact_code_answer, redact_code_answer)
            if answers_code
            else (redact_message, redact_text)
        )
        data = event.as_dict()
        holders = [data]
        if isinstance(data.get("parse_data"), dict):  # the live event's own dict: changed in a copy
            data["parse_data"] = dict(data["parse_data"])
            holders.append(data["parse_data"])
        for holder in holders:
            if isinstance(holder.get("text"), str):
                holder["text"] = whole(holder["text"])
            for key in ("entities", "metadata"):
                if holder.get(key):
                    holder[key] = redact_value(holder[key], parts)
        return Event.from_parameters(data) or event
    if isinstance(event, SlotSet) and event.value is not None:
        if isinstance(event.value, str) and SEALED_VALUE.fullmatch(event.value):
            return event
        data = event.as_dict()
        data["value"] = redact_value(data["value"])
        return Event.from_parameters(data) or event
    return event


def redacted_events(events: Iterable[Event]) -> list[Event]:
    """Every event redacted, each user message read as an answer to what the form asked just before it."""
    redacted: list[Event] = []
    asked: Any = None  # the form's requested_slot as the events go
    for event in events:
        redacted.append(
            redact_event(event, answers_code=asked == CODE_SLOT, private=asked in PRIVATE_ANSWER_SLOTS)
        )
        if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            asked = event.value
        elif isinstance(event, (Restarted, AllSlotsReset)):
            asked = None
    return redacted


def redacted_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """The same conversation with every event redacted; the live tracker is left alone."""
    return DialogueStateTracker.from_events(
        tracker.sender_id,
        redacted_events(tracker.events),
        slots=tracker.slots.values(),
        sender_source=tracker.sender_source,
    )


logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RasaException):
    """Reading or writing one conversation failed; the server goes on serving everyone else."""


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, given only redacted events to keep, that never ends the process.

    Rasa's ``session_scope`` takes any ``ValueError`` raised inside it for a missing PostgreSQL
    schema and exits. ``UnicodeEncodeError`` is a ``ValueError``, so one sender id with a lone
    surrogate stopped the whole assistant (issue #11). Here a failure is logged by type and code
    location only (SQLAlchemy's messages quote the statement's parameters: what the person wrote)
    and raised as ``TrackerStoreUnavailable``, an ordinary error the channel handles.
    """

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as missing:
                logger.error("Tracker store: the PostgreSQL schema %r does not exist", str(missing))
                raise TrackerStoreUnavailable("the PostgreSQL schema does not exist") from None
            yield session
        except TrackerStoreUnavailable:
            raise
        except Exception as error:
            with contextlib.suppress(Exception):
                session.rollback()
            logger.error("Tracker store failed, conversation not read or saved: %s", failure_summary(error))
            raise TrackerStoreUnavailable(f"tracker store failed ({type(error).__name__})") from None
        finally:
            session.close()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(redacted_copy(tracker))
