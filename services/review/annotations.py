"""Inbox decisions (``InboxDecision``) and the review-database queries behind the inbox pages.

Every function takes a session and does one short piece of work: on SQLite every transaction holds
the write lock, so callers open a session per step and do the slow parts (grouping, the export,
clustering) with no session open.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.handoff import EXTERNAL_MESSAGE_PREFIX
from services.review.chat import SENDER_PREFIX
from services.review.inbox import PAYLOAD_PREFIX, InboxCandidate, is_shortcut
from services.review.indexer import EVENTS
from services.review.models import InboxDecision, Outcome, ReviewMessage

__all__ = [
    "DecisionStatus",
    "InboxDecision",
    "MessagesSignature",
    "decide",
    "decided_keys",
    "decisions",
    "mark_exported",
    "message_candidates",
    "messages_signature",
    "turn_parse",
    "unanswered_messages",
]
# A turn is its user message and what follows up to the next one: a few actions, slots and bot
# messages; more than this is no turn the guess needs to read.
TURN_EVENTS = 24

UNANSWERED_OUTCOMES = (Outcome.FALLBACK.value, Outcome.HANDOFF.value)


class DecisionStatus(str, Enum):
    APPROVED = "approved"
    DISCARDED = "discarded"
    EXPORTED = "exported"


@dataclass(frozen=True)
class MessagesSignature:
    """Changes whenever the indexer adds a message (it only ever inserts them, by event id)."""

    count: int
    last_event_id: int


def _real_user_messages() -> list[object]:
    """Conditions for messages people sent: no review test chats, no payloads or external intents."""
    return [
        ReviewMessage.text.is_not(None),
        ~ReviewMessage.conversation_id.startswith(SENDER_PREFIX, autoescape=True),
        ~ReviewMessage.text.startswith(PAYLOAD_PREFIX, autoescape=True),
        ~ReviewMessage.text.startswith(EXTERNAL_MESSAGE_PREFIX, autoescape=True),
    ]


def messages_signature(session: Session) -> MessagesSignature:
    count, last = session.execute(select(func.count(), func.max(ReviewMessage.event_id))).one()
    return MessagesSignature(int(count or 0), int(last or 0))


def message_candidates(session: Session) -> list[InboxCandidate]:
    """Every real user message as an inbox candidate (prediction: the FAQ topic, else the intent)."""
    query = select(
        ReviewMessage.event_id,
        ReviewMessage.conversation_id,
        ReviewMessage.timestamp,
        ReviewMessage.text,
        ReviewMessage.topic,
        ReviewMessage.intent,
        ReviewMessage.confidence,
    ).where(*_real_user_messages())  # type: ignore[arg-type]
    return [
        InboxCandidate(
            event_id=row.event_id,
            conversation_id=row.conversation_id,
            timestamp=row.timestamp,
            text=row.text,
            predicted=row.topic or row.intent,
            confidence=row.confidence,
        )
        for row in session.execute(query.execution_options(yield_per=5000))
    ]


def message_texts(session: Session, event_ids: Iterable[int]) -> dict[int, str]:
    """The texts of these messages (those that exist and are real user messages)."""
    ids = sorted(set(event_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(ReviewMessage.event_id, ReviewMessage.text).where(
                ReviewMessage.event_id.in_(ids[start : start + 500]),
                *_real_user_messages(),  # type: ignore[arg-type]
            )
        )
        found.update((row.event_id, row.text) for row in rows)
    return found


def decided_keys(session: Session) -> set[str]:
    return set(session.scalars(select(InboxDecision.key)))


def decide(
    session: Session,
    items: Sequence[tuple[str, str]],
    label: str | None,
    status: DecisionStatus,
    user: str,
    now: datetime,
) -> int:
    """Record a decision for (key, representative text) pairs; returns how many were recorded.

    A message decided before is decided again (a reviewer working from an older page), unless it
    was already exported: what is in the training data is changed there, not here.
    """
    if status is DecisionStatus.EXPORTED:
        raise ValueError("only the export marks decisions exported")
    if (status is DecisionStatus.APPROVED) != (label is not None):
        raise ValueError("an approved message has a label, a discarded one none")
    keys = list(dict.fromkeys(key for key, _ in items))
    existing = {
        decision.key: decision
        for start in range(0, len(keys), 500)
        for decision in session.scalars(
            select(InboxDecision).where(InboxDecision.key.in_(keys[start : start + 500]))
        )
    }
    recorded = 0
    seen: set[str] = set()
    for key, text in items:
        if key in seen:
            continue
        seen.add(key)
        decision = existing.get(key)
        if decision is None:
            session.add(
                InboxDecision(
                    key=key,
                    text=text,
                    label=label,
                    status=status.value,
                    decided_by=user,
                    decided_at=now,
                )
            )
        elif decision.status == DecisionStatus.EXPORTED.value:
            continue
        else:
            decision.label, decision.status = label, status.value
            decision.decided_by, decision.decided_at = user, now
        recorded += 1
    return recorded


def decisions(session: Session, status: DecisionStatus, limit: int | None = None) -> list[InboxDecision]:
    """Decisions with this status, the latest first."""
    order = (
        InboxDecision.exported_at.desc()
        if status is DecisionStatus.EXPORTED
        else InboxDecision.decided_at.desc()
    )
    query = (
        select(InboxDecision).where(InboxDecision.status == status.value).order_by(order, InboxDecision.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def count_decisions(session: Session, status: DecisionStatus) -> int:
    return int(session.scalar(select(func.count()).where(InboxDecision.status == status.value)) or 0)


def mark_exported(session: Session, ids: Sequence[int], now: datetime) -> int:
    """These approved decisions are exported now (any decided again meanwhile are left alone)."""
    marked = 0
    for start in range(0, len(ids), 500):
        result = session.execute(
            update(InboxDecision)
            .where(
                InboxDecision.id.in_(ids[start : start + 500]),
                InboxDecision.status == DecisionStatus.APPROVED.value,
            )
            .values(status=DecisionStatus.EXPORTED.value, exported_at=now)
        )
        marked += int(getattr(result, "rowcount", 0) or 0)
    return marked


@dataclass(frozen=True)
class UnansweredMessages:
    texts: tuple[str, ...]  # the most recent first, at most ``limit``
    total: int  # all matching messages
    digest: str  # identifies the message set (event ids)


def unanswered_messages(session: Session, start: datetime, end: datetime, limit: int) -> UnansweredMessages:
    """Real user messages in [start, end) that ended in a fallback or a handoff, newest first.

    Option numbers and menu words are left out: they ask nothing a FAQ could answer.
    """
    query = (
        select(ReviewMessage.event_id, ReviewMessage.text)
        .where(
            ReviewMessage.outcome.in_(UNANSWERED_OUTCOMES),
            ReviewMessage.timestamp >= start,
            ReviewMessage.timestamp < end,
            *_real_user_messages(),  # type: ignore[arg-type]
        )
        .order_by(ReviewMessage.timestamp.desc(), ReviewMessage.event_id.desc())
    )
    rows = [(row.event_id, row.text) for row in session.execute(query) if not is_shortcut(row.text)]
    kept = rows[:limit]
    digest = hashlib.sha256(",".join(str(event_id) for event_id, _ in kept).encode()).hexdigest()
    return UnansweredMessages(tuple(text for _, text in kept), len(rows), digest)


@dataclass(frozen=True)
class TurnParse:
    """A user message's parse and the bot messages of its turn, as the tracker store keeps them."""

    parse: dict[str, Any]
    bot_events: tuple[dict[str, Any], ...]


def _decoded(data: Any) -> dict[str, Any]:
    try:
        value = json.loads(data) if data else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def turn_parse(tracker_engine: Engine, conversation_id: str, event_id: int) -> TurnParse | None:
    """The turn of user event ``event_id`` from the tracker store (read only); None if unreadable.

    The review database keeps only the label the gate decided; the rankings behind a fallback and
    the second stage's answer are in the tracker store's events (one short indexed read per row).
    """
    query = (
        select(EVENTS.c.type_name, EVENTS.c.data)
        .where(EVENTS.c.sender_id == conversation_id, EVENTS.c.id >= event_id)
        .order_by(EVENTS.c.id)
        .limit(TURN_EVENTS)
    )
    try:
        with tracker_engine.connect() as connection:
            rows = list(connection.execute(query))
    except SQLAlchemyError:
        return None
    if not rows or rows[0].type_name != "user":
        return None
    bots = []
    for row in rows[1:]:
        if row.type_name == "user":
            break
        if row.type_name == "bot":
            bots.append(_decoded(row.data))
    parse = _decoded(rows[0].data).get("parse_data")
    return TurnParse(parse if isinstance(parse, dict) else {}, tuple(bots))
