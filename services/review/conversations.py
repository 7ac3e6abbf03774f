"""The conversation list (filters, keyset paging), transcripts, and what reviewers do to them.

Paging is by keyset on (last_message_at, conversation_id): a page costs the same however deep it
is, and every filter has an index that leads with its column and then last_message_at.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from services.review.indexer import TrackerUnavailable, read_conversation_events
from services.review.models import ConversationLabel, ConversationTag, ReviewConversation, ReviewMessage
from services.review.rasa_client import RasaUnavailable, release_handoff
from services.review.state import ReviewState
from services.review.transcript import build_transcript
from services.review.web import (
    AdminUser,
    CurrentUser,
    DbSession,
    StateDep,
    Synced,
    render,
    verify_csrf,
)

router = APIRouter()

MAX_TAG_LENGTH = 64
_TAG = re.compile(r"^[\w\- ./]+$", re.UNICODE)
_YES = {"yes", "1", "true", "on", "ya"}
_NO = {"no", "0", "false", "off", "tidak"}


def _tri_state(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    return True if lowered in _YES else False if lowered in _NO else None


def normalise_tag(tag: str) -> str | None:
    cleaned = " ".join(tag.strip().lower().split())[:MAX_TAG_LENGTH]
    return cleaned if cleaned and _TAG.match(cleaned) else None


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
                    problems.append(f"{name.replace('_', ' ')}: not a date (YYYY-MM-DD)")
        for name in ("channel", "label", "tag"):
            raw = (params.get(name) or "").strip()
            if raw:
                values[name] = raw[:255]
        raw_below = (params.get("below") or "").strip()
        if raw_below:
            try:
                below = float(raw_below)
            except ValueError:
                problems.append("confidence below: not a number")
            else:
                if 0 <= below <= 1:
                    values["below"] = below
                else:
                    problems.append("confidence below: between 0 and 1")
        for name in ("fallback", "reviewed", "waiting"):
            values[name] = _tri_state(params.get(name))
        return cls(**values), problems

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            params[item.name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        return params

    def conditions(self, zone: ZoneInfo) -> list[ColumnElement[bool]]:
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
    conditions = filters.conditions(zone)
    query = select(conversation).where(*conditions)
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
    total = session.scalar(select(func.count()).select_from(conversation).where(*conditions)) or 0
    return ConversationPage(_with_tags_and_labels(session, found), total, newer, older)


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


def _page_links(filters: ConversationFilters, page: ConversationPage) -> dict[str, str | None]:
    base = filters.as_params()
    return {
        "newer": f"?{urlencode({**base, 'before': page.newer.encode()})}" if page.newer else None,
        "older": f"?{urlencode({**base, 'after': page.older.encode()})}" if page.older else None,
        "first": f"?{urlencode(base)}",
    }


def _serialise(row: ConversationRow) -> dict[str, Any]:
    conversation = row.conversation
    return {
        "conversation_id": conversation.conversation_id,
        "channel": conversation.channel,
        "started_at": conversation.started_at.isoformat(),
        "last_message_at": conversation.last_message_at.isoformat(),
        "user_messages": conversation.user_messages,
        "has_fallback": conversation.has_fallback,
        "lowest_confidence": conversation.lowest_confidence,
        "waiting_for_officer": conversation.waiting_for_officer,
        "reviewed": conversation.reviewed,
        "reviewed_by": conversation.reviewed_by,
        "tags": row.tags,
        "labels": row.labels,
    }


@router.get("/conversations", response_class=HTMLResponse)
def conversation_list(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> Response:
    filters, problems = ConversationFilters.parse(request.query_params)
    page = list_conversations(
        db,
        filters,
        state.settings.zone,
        after=Cursor.decode(request.query_params.get("after")),
        before=Cursor.decode(request.query_params.get("before")),
        page_size=state.settings.page_size,
    )
    return render(
        request,
        "conversations.html",
        {
            "filters": filters,
            "problems": problems,
            "page": page,
            "links": _page_links(filters, page),
            "choices": filter_choices(db),
            "sync_error": synced.error if synced else None,
        },
    )


@router.get("/api/conversations")
def conversation_list_json(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> dict[str, Any]:
    filters, problems = ConversationFilters.parse(request.query_params)
    if problems:
        raise HTTPException(status_code=422, detail=problems)
    page = list_conversations(
        db,
        filters,
        state.settings.zone,
        after=Cursor.decode(request.query_params.get("after")),
        before=Cursor.decode(request.query_params.get("before")),
        page_size=state.settings.page_size,
    )
    return {
        "total": page.total,
        "conversations": [_serialise(row) for row in page.rows],
        "older": page.older.encode() if page.older else None,
        "newer": page.newer.encode() if page.newer else None,
        "sync_error": synced.error if synced else None,
    }


def _conversation_or_404(state: ReviewState, db: Session, conversation_id: str) -> ReviewConversation:
    conversation = db.get(ReviewConversation, conversation_id)
    if conversation is None:
        raise HTTPException(status_code=404, detail="No such conversation in the tracker store.")
    return conversation


def transcript_page(
    request: Request,
    state: ReviewState,
    db: Session,
    conversation_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    conversation = _conversation_or_404(state, db, conversation_id)
    tags = list(
        db.scalars(
            select(ConversationTag.tag)
            .where(ConversationTag.conversation_id == conversation_id)
            .order_by(ConversationTag.tag)
        )
    )
    messages = {
        message.event_id: message
        for message in db.scalars(
            select(ReviewMessage).where(ReviewMessage.conversation_id == conversation_id)
        )
    }
    try:
        lines = build_transcript(read_conversation_events(state.tracker_engine, conversation_id), messages)
    except TrackerUnavailable as unavailable:
        lines = []
        error = error or f"The tracker store cannot be read: {unavailable}"
    return render(
        request,
        "transcript.html",
        {"conversation": conversation, "tags": tags, "lines": lines, "error": error, "notice": notice},
        status_code=status_code,
    )


@router.get("/conversations/{conversation_id:path}", response_class=HTMLResponse)
def transcript(
    request: Request, conversation_id: str, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> HTMLResponse:
    notice = {"released": "Handed back to the bot."}.get(request.query_params.get("done", ""))
    return transcript_page(request, state, db, conversation_id, notice=notice)


def _back(conversation_id: str, query: str = "") -> RedirectResponse:
    return RedirectResponse(f"/conversations/{quote(conversation_id, safe='')}{query}", status_code=303)


@router.post("/conversations/{conversation_id:path}/tags", dependencies=[Depends(verify_csrf)])
def add_tag(
    conversation_id: str,
    user: CurrentUser,
    state: StateDep,
    db: DbSession,
    tag: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    _conversation_or_404(state, db, conversation_id)
    cleaned = normalise_tag(tag)
    if cleaned is None:
        raise HTTPException(
            status_code=422, detail="A tag is letters, digits, spaces and - _ . / (up to 64)."
        )
    if db.get(ConversationTag, (conversation_id, cleaned)) is None:
        db.add(
            ConversationTag(
                conversation_id=conversation_id,
                tag=cleaned,
                created_by=user.username,
                created_at=state.clock(),
            )
        )
        db.commit()
    return _back(conversation_id)


@router.post("/conversations/{conversation_id:path}/tags/remove", dependencies=[Depends(verify_csrf)])
def remove_tag(
    conversation_id: str,
    _user: CurrentUser,
    state: StateDep,
    db: DbSession,
    tag: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    _conversation_or_404(state, db, conversation_id)
    db.execute(
        delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag
        )
    )
    db.commit()
    return _back(conversation_id)


@router.post("/conversations/{conversation_id:path}/review", dependencies=[Depends(verify_csrf)])
def mark_reviewed(
    conversation_id: str,
    user: CurrentUser,
    state: StateDep,
    db: DbSession,
    reviewed: Annotated[str, Form(max_length=10)] = "yes",
) -> RedirectResponse:
    conversation = _conversation_or_404(state, db, conversation_id)
    done = _tri_state(reviewed) is not False
    conversation.reviewed = done
    conversation.reviewed_by = user.username if done else None
    conversation.reviewed_at = state.clock() if done else None
    db.commit()
    return _back(conversation_id)


@router.post(
    "/conversations/{conversation_id:path}/release", dependencies=[Depends(verify_csrf)], response_model=None
)
def release(
    request: Request, conversation_id: str, _admin: AdminUser, state: StateDep, db: DbSession
) -> Response:
    _conversation_or_404(state, db, conversation_id)
    db.rollback()  # on SQLite an open transaction holds the write lock: not while Rasa works
    token = state.settings.rasa_api_token.get_secret_value()
    try:
        release_handoff(state.rasa, conversation_id, token)
    except RasaUnavailable as unavailable:
        message = f"The conversation was not handed back: {unavailable} Is the assistant running?"
        return transcript_page(request, state, db, conversation_id, error=message, status_code=502)
    state.indexer.sync()
    return _back(conversation_id, "?done=released")
