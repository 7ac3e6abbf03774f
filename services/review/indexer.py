"""Indexing Rasa's tracker store into the review database, incrementally.

Rasa's SQLTrackerStore appends one row per event to ``events`` (id, sender_id, type_name,
timestamp, intent_name, action_name, data = the event's ``as_dict()`` JSON). The indexer reads the
rows after its watermark (the last id it processed) in id order and keeps, per conversation, a
:class:`~services.review.models.ReviewConversation` summary, its labels, and one
:class:`~services.review.models.ReviewMessage` per user message.

A turn is a user message and everything up to the next one. Its outcome is:

- ``handoff`` when slot ``handoff_requested`` turned true in it (actions/handoff.py);
- ``fallback`` when its intent is ``nlu_fallback`` or the bot answered with one of
  :data:`FALLBACK_RESPONSES` (actions/menu.py, actions/fallback.py, data/rules/core.yml);
- ``answered`` when the bot gave a FAQ answer (a ``utter_faq/<topic>`` response);
- ``other`` otherwise (menus, greetings, the schedule check, silence while waiting for an officer).

A conversation waits for an officer while the latest ``handoff_requested`` value of its current
session is true; ``python -m services.review waiting`` lists them, the longest waiting first.

A message's text is stored with personal data masked (services/review/masking.py), whatever the
tracker store kept: the review database holds no NIK, birth date or phone number either. The words
of that masked text feed the list's search (services/review/search.py), and the last message is kept
as the list's preview: the recipient's masked, the bot's and an officer's as written.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, column, insert, select, table, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.handoff import EXTERNAL_MESSAGE_PREFIX, OFFICER_REPLY_INTENT, OFFICER_TEXT_ENTITY
from core.parse import selected_answer
from services.review.masking import mask_message
from services.review.models import (
    OUTCOME_WEIGHT,
    PREVIEW_LENGTH,
    ConversationLabel,
    ConversationWord,
    Outcome,
    ReviewConversation,
    ReviewMessage,
    SyncState,
)
from services.review.search import word_keys

logger = logging.getLogger(__name__)

HANDOFF_SLOT = "handoff_requested"
FALLBACK_INTENT = "nlu_fallback"
FAQ_INTENT = "faq"
FAQ_CHOICE_INTENT = "faq_choice"  # a topic picked from a menu: /faq_choice{"topic": "<topic>"}
FAQ_ANSWER_PREFIX = "utter_faq/"
# The bot's "not sure" answers: the fallback menu, "did you mean", out of scope, and the officer
# offer that replaces the menu on the second uncertain turn in a row.
FALLBACK_RESPONSES = frozenset(
    {
        "utter_uncertain_answer",
        "utter_uncertain_answer_again",
        "utter_out_of_scope",
        "utter_out_of_scope_again",
        "utter_did_you_mean",
        "utter_did_you_mean_or_officer",
        "utter_handoff_offer",
        "utter_handoff_offer_again",
    }
)
SYNC_STATE_NAME = "tracker"
# Who said a conversation's last message (ReviewConversation.last_author).
AUTHOR_USER = "user"
AUTHOR_BOT = "bot"
AUTHOR_OFFICER = "officer"
# After a sync this large, the planner statistics are refreshed: SQLite has none until ANALYZE,
# and without them it picks a boolean column's index over a label's for "label + not reviewed".
ANALYZE_AFTER_EVENTS = 10_000
ANALYZED_TABLES = (
    "review_conversations",
    "review_conversation_labels",
    "review_conversation_tags",
    "review_conversation_words",
    "review_messages",
)
_ID_CHUNK = 500  # SQLite's bound parameter limit is generous, but IN lists stay reasonable
_PG_LOCK_KEY = 0x5EED_1DE  # advisory lock: one indexer at a time across app instances

EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("intent_name"),
    column("action_name"),
    column("data"),
)


class TrackerUnavailable(Exception):
    """The tracker store cannot be read (file missing, server down, no ``events`` table yet)."""


@dataclass(frozen=True)
class TrackerEvent:
    """A row of the tracker store's ``events`` table, its JSON decoded."""

    id: int
    sender_id: str
    type_name: str
    timestamp: datetime | None
    data: dict[str, Any]


@dataclass(frozen=True)
class UserMessage:
    """What the indexer keeps of a ``user`` event's parse data."""

    text: str | None
    intent: str | None
    topic: str | None
    confidence: float | None
    channel: str | None


@dataclass(frozen=True)
class SyncResult:
    events: int = 0
    conversations: int = 0
    messages: int = 0
    last_event_id: int = 0
    error: str | None = None


def to_datetime(timestamp: Any) -> datetime | None:
    """Rasa's float unix timestamps as aware UTC datetimes."""
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(float(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def parse_user_event(data: dict[str, Any]) -> UserMessage:
    """Intent, FAQ topic and confidence of a ``user`` event (``UserUttered.as_dict()``)."""
    parse = data.get("parse_data") or {}
    intent_data = parse.get("intent") or {}
    intent = intent_data.get("name")
    confidence = _float(intent_data.get("confidence"))
    topic = None
    if intent == FAQ_INTENT:
        selected = selected_answer(parse, FAQ_INTENT)
        if selected is not None:
            topic, confidence = selected
    elif intent == FAQ_CHOICE_INTENT:
        for entity in parse.get("entities") or []:
            if entity.get("entity") == "topic" and entity.get("value"):
                topic = f"{FAQ_INTENT}/{entity['value']}"
                break
    channel = data.get("input_channel")
    return UserMessage(
        text=data.get("text"),
        intent=str(intent) if intent else None,
        topic=topic,
        confidence=confidence,
        channel=str(channel) if channel else None,
    )


def officer_text(data: dict[str, Any]) -> str | None:
    """The reply an officer sent, from the ``officer_reply`` event the officer console triggered."""
    for entity in (data.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == OFFICER_TEXT_ENTITY:
            return str(entity.get("value") or "")
    return None


def bot_outcome(data: dict[str, Any]) -> Outcome | None:
    """What a ``bot`` event says about its turn, from the response it came from."""
    metadata = data.get("metadata") or {}
    response = metadata.get("utter_action") or metadata.get("template_name") or ""
    if response in FALLBACK_RESPONSES:
        return Outcome.FALLBACK
    if str(response).startswith(FAQ_ANSWER_PREFIX):
        return Outcome.ANSWERED
    return None


def heavier(current: str | None, candidate: str) -> str:
    if current is None or OUTCOME_WEIGHT[candidate] > OUTCOME_WEIGHT[current]:
        return candidate
    return current


@dataclass
class _Conversation:
    """A conversation's summary while a batch is applied to it."""

    conversation_id: str
    started_at: datetime
    last_message_at: datetime
    channel: str | None = None
    user_messages: int = 0
    has_fallback: bool = False
    lowest_confidence: float | None = None
    waiting_for_officer: bool = False
    last_event_id: int = 0
    open_turn_event_id: int | None = None
    open_turn_outcome: str | None = None
    is_new: bool = True
    labels: set[str] = field(default_factory=set)
    wrote_again: bool = False  # a user message in this batch: a review done before is out of date
    last_text: str | None = None
    last_author: str | None = None
    words: set[bytes] = field(default_factory=set)  # of this batch's messages
    turn_intent: str | None = None  # of the open turn's user message, within this batch

    @classmethod
    def from_row(cls, row: Any) -> _Conversation:
        return cls(
            conversation_id=row.conversation_id,
            started_at=row.started_at,
            last_message_at=row.last_message_at,
            channel=row.channel,
            user_messages=row.user_messages,
            has_fallback=row.has_fallback,
            lowest_confidence=row.lowest_confidence,
            waiting_for_officer=row.waiting_for_officer,
            last_event_id=row.last_event_id,
            open_turn_event_id=row.open_turn_event_id,
            open_turn_outcome=row.open_turn_outcome,
            is_new=False,
            last_text=row.last_text,
            last_author=row.last_author,
        )

    def values(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "started_at": self.started_at,
            "last_message_at": self.last_message_at,
            "channel": self.channel,
            "user_messages": self.user_messages,
            "has_fallback": self.has_fallback,
            "lowest_confidence": self.lowest_confidence,
            "waiting_for_officer": self.waiting_for_officer,
            "last_event_id": self.last_event_id,
            "open_turn_event_id": self.open_turn_event_id,
            "open_turn_outcome": self.open_turn_outcome,
            "last_text": self.last_text,
            "last_author": self.last_author,
        }

    def said(self, author: str, text: Any) -> None:
        """The list's preview: the last thing said, on one line, cut to PREVIEW_LENGTH characters."""
        line = " ".join(str(text or "").split())
        if line:
            cut = line if len(line) <= PREVIEW_LENGTH else line[: PREVIEW_LENGTH - 1].rstrip() + "…"
            self.last_text, self.last_author = cut, author


class _Batch:
    """One batch of events applied in memory, then written with a few bulk statements."""

    def __init__(self, conversations: dict[str, _Conversation]) -> None:
        self.conversations = conversations
        self.messages: dict[int, dict[str, Any]] = {}  # new ReviewMessage rows by event id
        self.outcome_updates: dict[int, str] = {}  # earlier messages whose turn got heavier

    def apply(self, event: TrackerEvent) -> None:
        at = event.timestamp
        conversation = self.conversations.get(event.sender_id)
        if conversation is None:
            start = at or datetime.now(UTC)
            conversation = _Conversation(event.sender_id, started_at=start, last_message_at=start)
            self.conversations[event.sender_id] = conversation
        conversation.last_event_id = max(conversation.last_event_id, event.id)
        kind = event.type_name
        if kind == "user":
            self._user(conversation, event)
        elif kind == "bot":
            if at is not None and at > conversation.last_message_at:
                conversation.last_message_at = at
            if conversation.turn_intent != OFFICER_REPLY_INTENT:  # that one is previewed from its entity
                conversation.said(AUTHOR_BOT, event.data.get("text"))
            outcome = bot_outcome(event.data)
            if outcome is not None:
                self._turn_outcome(conversation, outcome)
        elif kind == "slot" and event.data.get("name") == HANDOFF_SLOT:
            conversation.waiting_for_officer = bool(event.data.get("value"))
            if conversation.waiting_for_officer:
                self._turn_outcome(conversation, Outcome.HANDOFF)
        elif kind in ("session_started", "restart", "reset_slots"):
            conversation.waiting_for_officer = False

    def _user(self, conversation: _Conversation, event: TrackerEvent) -> None:
        parsed = parse_user_event(event.data)
        at = event.timestamp or conversation.last_message_at
        if at > conversation.last_message_at:
            conversation.last_message_at = at
        outcome = Outcome.FALLBACK.value if parsed.intent == FALLBACK_INTENT else Outcome.OTHER.value
        masked = None if parsed.text is None else mask_message(parsed.text)
        conversation.turn_intent = parsed.intent
        if parsed.intent == OFFICER_REPLY_INTENT:
            conversation.said(AUTHOR_OFFICER, officer_text(event.data))
        elif masked and not masked.startswith(EXTERNAL_MESSAGE_PREFIX):
            conversation.said(AUTHOR_USER, masked)
            conversation.words |= word_keys([masked])
        self.messages[event.id] = {
            "event_id": event.id,
            "conversation_id": conversation.conversation_id,
            "timestamp": at,
            "channel": parsed.channel,
            "text": masked,
            "intent": parsed.intent,
            "topic": parsed.topic,
            "confidence": parsed.confidence,
            "outcome": outcome,
        }
        if parsed.text is not None and parsed.text.startswith(EXTERNAL_MESSAGE_PREFIX):
            return  # the console's reply or hand-back: the recipient did not write (no count, no "new")
        conversation.user_messages += 1
        conversation.wrote_again = True
        conversation.open_turn_event_id = event.id
        conversation.open_turn_outcome = outcome
        conversation.has_fallback = conversation.has_fallback or outcome == Outcome.FALLBACK.value
        if conversation.channel is None and parsed.channel:
            conversation.channel = parsed.channel
        if parsed.confidence is not None and (
            conversation.lowest_confidence is None or parsed.confidence < conversation.lowest_confidence
        ):
            conversation.lowest_confidence = parsed.confidence
        label = parsed.topic or parsed.intent
        if label:
            conversation.labels.add(label)

    def _turn_outcome(self, conversation: _Conversation, outcome: Outcome) -> None:
        turn = conversation.open_turn_event_id
        if turn is None:  # before the first user message (a greeting at session start)
            return
        weightier = heavier(conversation.open_turn_outcome, outcome.value)
        if weightier == conversation.open_turn_outcome:
            return
        conversation.open_turn_outcome = weightier
        if weightier == Outcome.FALLBACK.value:
            conversation.has_fallback = True
        if turn in self.messages:
            self.messages[turn]["outcome"] = weightier
        else:
            self.outcome_updates[turn] = weightier


def _chunks(items: Sequence[str], size: int = _ID_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _decode(data: Any) -> dict[str, Any]:
    if not data:
        return {}
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _event(row: Any) -> TrackerEvent:
    return TrackerEvent(
        id=int(row.id),
        sender_id=str(row.sender_id),
        type_name=str(row.type_name),
        timestamp=to_datetime(row.timestamp),
        data=_decode(row.data),
    )


def read_events_after(tracker_engine: Engine, last_event_id: int, limit: int) -> list[TrackerEvent]:
    """Up to ``limit`` tracker store events after ``last_event_id``, in id order."""
    query = select(EVENTS).where(EVENTS.c.id > last_event_id).order_by(EVENTS.c.id).limit(limit)
    try:
        with tracker_engine.connect() as connection:
            return [_event(row) for row in connection.execute(query)]
    except SQLAlchemyError as error:
        raise TrackerUnavailable(_describe(error)) from error


def read_conversation_events(tracker_engine: Engine, conversation_id: str) -> list[TrackerEvent]:
    """Every tracker store event of one conversation, in order (for the transcript)."""
    query = select(EVENTS).where(EVENTS.c.sender_id == conversation_id).order_by(EVENTS.c.id)
    try:
        with tracker_engine.connect() as connection:
            return [_event(row) for row in connection.execute(query)]
    except SQLAlchemyError as error:
        raise TrackerUnavailable(_describe(error)) from error


def _describe(error: SQLAlchemyError) -> str:
    """The kind of failure, without statement parameters or connection details."""
    original = getattr(error, "orig", None)
    message = str(original) if original is not None else type(error).__name__
    return f"{type(error).__name__}: {message.splitlines()[0] if message else ''}"


def _lock(session: Session) -> None:
    """On PostgreSQL, one indexer at a time (SQLite transactions already begin IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _watermark(session: Session) -> SyncState:
    state = session.get(SyncState, SYNC_STATE_NAME)
    if state is None:
        state = SyncState(name=SYNC_STATE_NAME, last_event_id=0)
        session.add(state)
        session.flush()
    return state


def _load_conversations(session: Session, ids: Iterable[str]) -> dict[str, _Conversation]:
    found: dict[str, _Conversation] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = session.execute(
            select(ReviewConversation.__table__).where(ReviewConversation.conversation_id.in_(chunk))
        )
        for row in rows:
            found[row.conversation_id] = _Conversation.from_row(row)
    return found


def _existing_labels(session: Session, ids: Sequence[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for chunk in _chunks(ids):
        rows = session.execute(
            select(ConversationLabel.conversation_id, ConversationLabel.label).where(
                ConversationLabel.conversation_id.in_(chunk)
            )
        )
        found.update((row.conversation_id, row.label) for row in rows)
    return found


def _existing_words(session: Session, ids: Sequence[str]) -> set[tuple[str, bytes]]:
    found: set[tuple[str, bytes]] = set()
    for chunk in _chunks(ids):
        rows = session.execute(
            select(ConversationWord.conversation_id, ConversationWord.word).where(
                ConversationWord.conversation_id.in_(chunk)
            )
        )
        found.update((row.conversation_id, bytes(row.word)) for row in rows)
    return found


def _write_words(session: Session, batch: _Batch) -> None:
    with_words = [c for c in batch.conversations.values() if c.words]
    existing = _existing_words(session, [c.conversation_id for c in with_words if not c.is_new])
    rows = [
        {"conversation_id": c.conversation_id, "word": word}
        for c in with_words
        for word in sorted(c.words)
        if (c.conversation_id, word) not in existing
    ]
    if rows:
        session.execute(insert(ConversationWord), rows)


def _write(session: Session, batch: _Batch) -> None:
    new = [c.values() for c in batch.conversations.values() if c.is_new]
    changed = [c.values() for c in batch.conversations.values() if not c.is_new]
    if new:
        session.execute(insert(ReviewConversation), new)
    if changed:
        session.execute(update(ReviewConversation), changed)  # bulk UPDATE by primary key
    reopened = [
        {"conversation_id": c.conversation_id, "reviewed": False, "reviewed_by": None, "reviewed_at": None}
        for c in batch.conversations.values()
        if not c.is_new and c.wrote_again
    ]
    if reopened:  # "not reviewed" must find conversations the recipient went on with
        session.execute(update(ReviewConversation), reopened)
    if batch.messages:
        session.execute(insert(ReviewMessage), list(batch.messages.values()))
    if batch.outcome_updates:
        session.execute(
            update(ReviewMessage),
            [
                {"event_id": event_id, "outcome": outcome}
                for event_id, outcome in batch.outcome_updates.items()
            ],
        )
    labelled = [c for c in batch.conversations.values() if c.labels]
    existing = _existing_labels(session, [c.conversation_id for c in labelled if not c.is_new])
    labels = [
        {"conversation_id": c.conversation_id, "label": label}
        for c in labelled
        for label in sorted(c.labels)
        if (c.conversation_id, label) not in existing
    ]
    if labels:
        session.execute(insert(ConversationLabel), labels)
    _write_words(session, batch)


def sync_batch(
    tracker_engine: Engine, session_factory: sessionmaker[Session], batch_size: int, now: datetime
) -> SyncResult:
    """Index the next ``batch_size`` events in one review-database transaction."""
    with session_factory() as session, session.begin():
        _lock(session)
        state = _watermark(session)
        events = read_events_after(tracker_engine, state.last_event_id, batch_size)
        if not events:
            return SyncResult(last_event_id=state.last_event_id)
        batch = _Batch(_load_conversations(session, (event.sender_id for event in events)))
        for event in events:
            batch.apply(event)
        _write(session, batch)
        state.last_event_id = events[-1].id
        state.synced_at = now
        return SyncResult(
            events=len(events),
            conversations=len(batch.conversations),
            messages=len(batch.messages),
            last_event_id=state.last_event_id,
        )


def sync(
    tracker_engine: Engine,
    session_factory: sessionmaker[Session],
    *,
    batch_size: int = 20_000,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncResult:
    """Index everything new in the tracker store; cheap (one small query) when nothing is."""
    events = conversations = messages = 0
    last = 0
    while True:
        result = sync_batch(tracker_engine, session_factory, batch_size, now())
        events += result.events
        conversations += result.conversations
        messages += result.messages
        last = result.last_event_id
        if result.events < batch_size:
            return SyncResult(events, conversations, messages, last)


def refresh_planner_statistics(session_factory: sessionmaker[Session]) -> None:
    """ANALYZE the index tables, so the query planner knows which filters are selective."""
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            for name in ANALYZED_TABLES:
                session.execute(text(f"ANALYZE {name}"))
        else:
            session.execute(text(f"ANALYZE {', '.join(ANALYZED_TABLES)}"))


class Indexer:
    """The app's indexer: one sync at a time, and at most one every ``min_interval`` seconds."""

    def __init__(
        self,
        tracker_engine: Engine,
        session_factory: sessionmaker[Session],
        *,
        batch_size: int = 20_000,
        min_interval: float = 0.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tracker_engine = tracker_engine
        self.session_factory = session_factory
        self.batch_size = batch_size
        self.min_interval = min_interval
        self.clock = clock
        self.last_result: SyncResult | None = None
        self._lock = threading.Lock()
        self._last_run = float("-inf")

    def sync(self) -> SyncResult:
        """Index what is new now. A tracker store that cannot be read is reported, not raised."""
        with self._lock:
            return self._run()

    def sync_if_due(self) -> SyncResult | None:
        """Sync unless one ran within ``min_interval`` or is running (then its result will do)."""
        if time.monotonic() - self._last_run < self.min_interval:
            return self.last_result
        if not self._lock.acquire(blocking=False):
            return self.last_result
        try:
            return self._run()
        finally:
            self._lock.release()

    def _run(self) -> SyncResult:
        try:
            result = sync(
                self.tracker_engine, self.session_factory, batch_size=self.batch_size, now=self.clock
            )
            if result.events >= ANALYZE_AFTER_EVENTS:
                refresh_planner_statistics(self.session_factory)
        except TrackerUnavailable as error:
            logger.warning("Tracker store not readable: %s", error)
            result = SyncResult(error=str(error))
        self._last_run = time.monotonic()
        self.last_result = result
        return result
