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

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import AllSlotsReset, BotUttered, Event, Restarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session

from core.bounded_cache import BoundedCache
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

T = TypeVar("T")


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


def redacted_events(events: Iterable[Event], start: int = 0) -> list[Event]:
    """The events from ``start`` on, redacted, each user message read as an answer to what the form
    asked just before it (read from all the events, also those before ``start``)."""
    redacted: list[Event] = []
    asked: Any = None  # the form's requested_slot as the events go
    for index, event in enumerate(events):
        if index >= start:
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
# On a tracker this store read or wrote: how many of its events (from the front) the database holds,
# the current session's as read. A turn's save then appends the rest without counting them again in
# the database first (one query of three a message: py-spy under `make load` found the count at 7 %
# of a Rasa process's busy time). Within a turn the conversation's lock keeps anyone else from writing.
STORED_EVENTS = "_tanyavaksin_stored_events"


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Conversations this process last read with nothing stored (True): a new conversation's first
        # save, right after, knows it holds none and does not count them (one query of four for a
        # conversation's first message). Reset by every read and save of the conversation.
        self._found_empty: BoundedCache[str, bool] = BoundedCache()

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

    # Rasa's SQL tracker store talks to the database synchronously, on the event loop: every other
    # message of the process waited while one conversation was read or written (half the time of a
    # save under `make load` was PostgreSQL's round trips). Here the database calls run in a worker
    # thread, and only the new events of a turn are redacted: the rest are stored already.

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the turn's new events, redacted (Rasa's ``save``, off the event loop)."""
        if self.event_broker is not None:  # Rasa streams the difference to what is stored
            await self.stream_events(redacted_copy(tracker))
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None and self._found_empty.get(tracker.sender_id):
            stored = 0
        self._found_empty.put(tracker.sender_id, False)
        events = list(tracker.events)
        await self._off_the_loop(self._append_new_events, tracker.sender_id, events, stored)
        setattr(tracker, STORED_EVENTS, len(events))

    async def _off_the_loop(self, work: Callable[..., T], *args: Any) -> T:
        """``work`` in a worker thread; inline for an in-memory SQLite database, which exists once per
        thread (SQLAlchemy's ``SingletonThreadPool``): a worker would see an empty one."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return work(*args)
        return await asyncio.to_thread(work, *args)

    def _append_new_events(self, sender_id: str, events: list[Event], stored: int | None = None) -> None:
        """``events[stored:]`` appended; ``stored`` unknown (a tracker this process did not read or
        write): counted as Rasa counts them, the events since the conversation's last session start."""
        with self.session_scope() as session:
            if stored is None:
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            rows = [self._row(sender_id, event) for event in redacted_events(events, start=stored)]
            if rows:
                session.execute(sa.insert(self.SQLEvent), rows)
            session.commit()

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The columns Rasa's ``save`` writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's ``_retrieve``, the query off the event loop."""
        events = await self._off_the_loop(self._stored_events, sender_id, fetch_events_from_all_sessions)
        self._found_empty.put(sender_id, not events)
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions and len(tracker.events) == len(events):
                setattr(tracker, STORED_EVENTS, len(events))  # what save() need not count again
            return tracker
        return None

    def _stored_events(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[dict[str, Any]]:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            return [json.loads(row.data) for row in rows]
