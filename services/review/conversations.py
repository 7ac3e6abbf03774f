"""Conversations in the review database: the list (filters, text search, keyset paging), what
transcripts show besides the tracker store's events, reviewers' tags and marks, handoffs waiting,
the test chat.

Paging is by keyset on (last_message_at, conversation_id): a page costs the same however deep it
is, and every filter has an index that leads with its column and then last_message_at. The pages
are in conversation_pages.py; nothing here knows about HTTP. The search ("q") goes through the word
index (search.py), so it is an index lookup too, however many conversations there are.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from services.review.models import (
    ChatLine,
    ConversationLabel,
    ConversationTag,
    Outcome,
    ReviewConversation,
    ReviewMessage,
    WebSession,
)
from services.review.search import SearchQuery, common_terms, count_matches, first_match

MAX_TAG_LENGTH = 64
_TAG = re.compile(r"^[\w\- ./]+$", re.UNICODE)
_YES = {"yes", "1", "true", "on", "ya"}
_NO = {"no", "0", "false", "off", "tidak"}


def tri_state(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    return True if lowered in _YES else False if lowered in _NO else None


def normalise_tag(tag: str) -> str | None:
    cleaned = " ".join(tag.strip().lower().split())[:MAX_TAG_LENGTH]
    return cleaned if cleaned and _TAG.match(cleaned) else None


# Filter problems, shown in Indonesian (translated on the page: locale/en/conversations.json).
_NOT_A_DATE = {
    "date_from": "Dari tanggal: bukan tanggal (TTTT-BB-HH)",
    "date_to": "Sampai tanggal: bukan tanggal (TTTT-BB-HH)",
}
NOT_A_NUMBER = "Keyakinan di bawah: bukan angka"
OUT_OF_RANGE = "Keyakinan di bawah: harus antara 0 dan 1"


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


@dataclass(frozen=True)
class ConversationFilters:
    """The list's filters, as typed by a reviewer (anything unparseable is reported and ignored)."""

    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    fallback: bool | None = None
    below: float | None = None  # lowest confidence below this
    label: str | None = None  # an intent or faq/<topic>
    tag: str | None = None
    reviewed: bool | None = None
    waiting: bool | None = None
    q: str | None = None  # words the recipient typed (search.py)

    @property
    def search(self) -> SearchQuery | None:
        return SearchQuery.parse(self.q) if self.q else None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> tuple[ConversationFilters, list[str]]:
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name in ("date_from", "date_to"):
            raw = (params.get(name) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    problems.append(_NOT_A_DATE[name])
        for name in ("channel", "label", "tag"):
            raw = (params.get(name) or "").strip()
            if raw:
                values[name] = raw[:255]
        raw_below = (params.get("below") or "").strip()
        if raw_below:
            try:
                below = float(raw_below)
            except ValueError:
                problems.append(NOT_A_NUMBER)
            else:
                if 0 <= below <= 1:
                    values["below"] = below
                else:
                    problems.append(OUT_OF_RANGE)
        typed = SearchQuery.parse(params.get("q") or "").typed
        if typed:
            values["q"] = typed
        for name in ("fallback", "reviewed", "waiting"):
            values[name] = tri_state(params.get(name))
        return cls(**values), problems

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            params[item.name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        return params

    def conditions(self, zone: ZoneInfo, common: Collection[str] = ()) -> list[ColumnElement[bool]]:
        """The filters as SQL; the search's ``common`` terms are checked row by row (search.py)."""
        conversation = ReviewConversation
        found: list[ColumnElement[bool]] = []
        # A conversation is "in" a date range when it was active during it.
        if self.date_from is not None:
            found.append(conversation.last_message_at >= local_day_start(self.date_from, zone))
        if self.date_to is not None:
            found.append(conversation.started_at < local_day_start(self.date_to + timedelta(days=1), zone))
        if self.channel is not None:
            found.append(conversation.channel == self.channel)
        if self.fallback is not None:
            found.append(conversation.has_fallback.is_(self.fallback))
        if self.below is not None:
            found.append(conversation.lowest_confidence < self.below)
        if self.reviewed is not None:
            found.append(conversation.reviewed.is_(self.reviewed))
        if self.waiting is not None:
            found.append(conversation.waiting_for_officer.is_(self.waiting))
        if self.label is not None:
            found.append(
                conversation.conversation_id.in_(
                    select(ConversationLabel.conversation_id).where(ConversationLabel.label == self.label)
                )
            )
        if self.tag is not None:
            found.append(
                conversation.conversation_id.in_(
                    select(ConversationTag.conversation_id).where(ConversationTag.tag == self.tag)
                )
            )
        if self.search is not None:
            found.append(self.search.condition(common))
        return found


@dataclass(frozen=True)
class Cursor:
    """A page boundary: the (last_message_at, conversation_id) of a row."""

    last_message_at: datetime
    conversation_id: str

    def encode(self) -> str:
        raw = json.dumps([self.last_message_at.isoformat(), self.conversation_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            at, conversation_id = json.loads(raw)
            moment = datetime.fromisoformat(at)
        except (ValueError, TypeError):
            return None
        if moment.tzinfo is None or not isinstance(conversation_id, str):
            return None
        return cls(moment, conversation_id)

    @classmethod
    def of(cls, row: ReviewConversation) -> Cursor:
        return cls(row.last_message_at, row.conversation_id)


@dataclass
class ConversationRow:
    conversation: ReviewConversation
    tags: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    match: str | None = None  # with a search: the first message that has a searched word (masked)


@dataclass
class ConversationPage:
    rows: list[ConversationRow]
    total: int
    newer: Cursor | None  # the "before" cursor of the previous page
    older: Cursor | None  # the "after" cursor of the next page


def list_conversations(
    session: Session,
    filters: ConversationFilters,
    zone: ZoneInfo,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    page_size: int = 50,
) -> ConversationPage:
    """One page, newest activity first; ``after`` pages to older rows, ``before`` to newer ones."""
    conversation = ReviewConversation
    search = filters.search
    # The page walks the recency index, checking common search words per row and stopping after a
    # page; the total reads each word's index rows instead (search.py).
    common = common_terms(session, search) if search is not None else set()
    conditions = filters.conditions(zone)
    query = select(conversation).where(*filters.conditions(zone, common))
    if before is not None:
        query = query.where(
            or_(
                conversation.last_message_at > before.last_message_at,
                and_(
                    conversation.last_message_at == before.last_message_at,
                    conversation.conversation_id > before.conversation_id,
                ),
            )
        ).order_by(conversation.last_message_at.asc(), conversation.conversation_id.asc())
    else:
        if after is not None:
            query = query.where(
                or_(
                    conversation.last_message_at < after.last_message_at,
                    and_(
                        conversation.last_message_at == after.last_message_at,
                        conversation.conversation_id < after.conversation_id,
                    ),
                )
            )
        query = query.order_by(conversation.last_message_at.desc(), conversation.conversation_id.desc())
    found = list(session.scalars(query.limit(page_size + 1)))
    more = len(found) > page_size
    found = found[:page_size]
    if before is not None:
        found.reverse()
        newer = Cursor.of(found[0]) if more and found else None
        older = Cursor.of(found[-1]) if found else None
    else:
        newer = Cursor.of(found[0]) if after is not None and found else None
        older = Cursor.of(found[-1]) if more else None
    if search is not None and filters == ConversationFilters(q=filters.q):
        total = count_matches(session, search)  # a search alone: counted in the word index
    else:
        total = session.scalar(select(func.count()).select_from(conversation).where(*conditions)) or 0
    rows = _with_tags_and_labels(session, found)
    if filters.search is not None:
        _with_matches(session, filters.search, rows)
    return ConversationPage(rows, total, newer, older)


def _with_matches(session: Session, search: SearchQuery, rows: list[ConversationRow]) -> None:
    """Why each row was found: its first message with a searched word (one query for the page)."""
    texts: dict[str, list[str | None]] = {row.conversation.conversation_id: [] for row in rows}
    if not texts:
        return
    query = (
        select(ReviewMessage.conversation_id, ReviewMessage.text)
        .where(ReviewMessage.conversation_id.in_(texts))
        .order_by(ReviewMessage.conversation_id, ReviewMessage.timestamp)
    )
    for conversation_id, text in session.execute(query):
        texts[conversation_id].append(text)
    for row in rows:
        row.match = first_match(search, texts[row.conversation.conversation_id])


def _with_tags_and_labels(session: Session, found: Sequence[ReviewConversation]) -> list[ConversationRow]:
    rows = {c.conversation_id: ConversationRow(c) for c in found}
    if rows:
        for conversation_id, tag in session.execute(
            select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.conversation_id.in_(rows))
            .order_by(ConversationTag.tag)
        ):
            rows[conversation_id].tags.append(tag)
        for conversation_id, label in session.execute(
            select(ConversationLabel.conversation_id, ConversationLabel.label)
            .where(ConversationLabel.conversation_id.in_(rows))
            .order_by(ConversationLabel.label)
        ):
            rows[conversation_id].labels.append(label)
    return list(rows.values())


@dataclass(frozen=True)
class FilterChoices:
    channels: list[str]
    labels: list[str]
    tags: list[str]


def filter_choices(session: Session) -> FilterChoices:
    def values(column: Any) -> list[str]:
        return [value for value in session.scalars(select(column).distinct().order_by(column)) if value]

    return FilterChoices(
        values(ReviewConversation.channel), values(ConversationLabel.label), values(ConversationTag.tag)
    )


def tags_and_messages(session: Session, conversation_id: str) -> tuple[list[str], dict[int, ReviewMessage]]:
    """A transcript's tags, and its indexed user messages (what the assistant made of each) by event id."""
    tags = select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id)
    messages = select(ReviewMessage).where(ReviewMessage.conversation_id == conversation_id)
    return (
        list(session.scalars(tags.order_by(ConversationTag.tag))),
        {message.event_id: message for message in session.scalars(messages)},
    )


def add_tag(session: Session, conversation_id: str, tag: str, by: str, now: datetime) -> None:
    if session.get(ConversationTag, (conversation_id, tag)) is None:
        session.add(ConversationTag(conversation_id=conversation_id, tag=tag, created_by=by, created_at=now))


def remove_tag(session: Session, conversation_id: str, tag: str) -> None:
    session.execute(
        delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag
        )
    )


def mark_reviewed(conversation: ReviewConversation, done: bool, by: str, now: datetime) -> None:
    conversation.reviewed = done
    conversation.reviewed_by = by if done else None
    conversation.reviewed_at = now if done else None


@dataclass(frozen=True)
class Waiting:
    """A conversation waiting for an officer: since the message that asked for one, and what came after."""

    conversation_id: str
    since: datetime
    messages_since: int


def waiting_for_officer(session: Session) -> list[Waiting]:
    """Every conversation waiting for an officer (the indexer decides), the longest waiting first."""
    asked = (
        select(ReviewMessage.conversation_id, func.max(ReviewMessage.timestamp).label("at"))
        .where(ReviewMessage.outcome == Outcome.HANDOFF.value)
        .group_by(ReviewMessage.conversation_id)
        .subquery()
    )
    conversation = ReviewConversation
    since = func.coalesce(asked.c.at, conversation.started_at)
    later = (
        select(func.count())
        .where(ReviewMessage.conversation_id == conversation.conversation_id, ReviewMessage.timestamp > since)
        .scalar_subquery()
    )
    query = (
        select(conversation.conversation_id, since, later)
        .outerjoin(asked, asked.c.conversation_id == conversation.conversation_id)
        .where(conversation.waiting_for_officer.is_(True))
        .order_by(since, conversation.conversation_id)
    )
    return [Waiting(*row) for row in session.execute(query)]


def chat_lines(session: Session, sender_id: str | None) -> list[ChatLine]:
    """A reviewer's test chat (``/chat``), in the order it was shown."""
    if sender_id is None:
        return []
    return list(
        session.scalars(select(ChatLine).where(ChatLine.sender_id == sender_id).order_by(ChatLine.id))
    )


def set_chat_sender(session: Session, token_hash: str, sender_id: str) -> None:
    """The test chat a signed-in browser continues: one per session, a new one on request."""
    session.execute(
        update(WebSession).where(WebSession.token_hash == token_hash).values(chat_sender_id=sender_id)
    )
