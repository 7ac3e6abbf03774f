"""The conversation list (``/conversations``, ``/api/conversations``), transcripts, and what reviewers
do to them: tags, the reviewed mark, handing a conversation back to the bot (administrators).

Queries are in conversations.py; a transcript's lines are read from the tracker store at each view
and put in plain words by transcript.py. Page texts are Indonesian, translated per reader (i18n.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review import conversations as queries
from services.review.conversations import ConversationFilters, ConversationPage, ConversationRow, Cursor
from services.review.i18n import language_of, translate
from services.review.indexer import AUTHOR_USER, TrackerUnavailable, read_conversation_events
from services.review.masking import mask_personal_data
from services.review.models import ReviewConversation
from services.review.rasa_client import RasaUnavailable, release_handoff
from services.review.state import ReviewState
from services.review.transcript import INTENT_WORDS, build_transcript, humanise, topic_titles
from services.review.web import AdminUser, CurrentUser, DbSession, StateDep, Synced, render, verify_csrf

router = APIRouter()

NO_SUCH_CONVERSATION = "Percakapan ini tidak ada di tracker store."
TRACKER_UNREADABLE = "Tracker store tidak dapat dibaca: {problem}"
RELEASED = "Percakapan dikembalikan ke bot."
BAD_TAG = "Tag terdiri dari huruf, angka, spasi dan - _ . / (paling banyak 64)."
NOT_RELEASED = "Percakapan tidak dikembalikan ke bot: {problem} Apakah asisten sedang berjalan?"
FAQ_LABEL_PREFIX = "faq/"


def label_words(titles: dict[str, str]) -> Any:
    """A list label in words: ``faq/halal`` → the topic's title, ``human_handoff`` → "Minta petugas"."""

    def words(label: str) -> str:
        if label.startswith(FAQ_LABEL_PREFIX):
            topic = label.removeprefix(FAQ_LABEL_PREFIX)
            return titles.get(topic) or humanise(topic)
        return INTENT_WORDS.get(label, humanise(label))

    return words


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
        "last_author": conversation.last_author,
        "last_text": preview(conversation.last_text, conversation.last_author),
        "match": None if row.match is None else mask_personal_data(row.match),
    }


def preview(text: str | None, author: str | None) -> str | None:
    """The list's preview: the recipient's words masked (again: older rows), others' as written."""
    return mask_personal_data(text) if text is not None and author == AUTHOR_USER else text


def _list(
    request: Request, state: ReviewState, db: Session, filters: ConversationFilters
) -> ConversationPage:
    return queries.list_conversations(
        db,
        filters,
        state.settings.zone,
        after=Cursor.decode(request.query_params.get("after")),
        before=Cursor.decode(request.query_params.get("before")),
        page_size=state.settings.page_size,
    )


@router.get("/conversations", response_class=HTMLResponse)
def conversation_list(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> Response:
    filters, problems = ConversationFilters.parse(request.query_params)
    page = _list(request, state, db, filters)
    return render(
        request,
        "conversations.html",
        {
            "filters": filters,
            "problems": problems,
            "page": page,
            "links": _page_links(filters, page),
            "choices": queries.filter_choices(db),
            "sync_error": synced.error if synced else None,
            "label_words": label_words(topic_titles(state.settings.content_dir)),
        },
    )


@router.get("/api/conversations")
def conversation_list_json(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> dict[str, Any]:
    filters, problems = ConversationFilters.parse(request.query_params)
    if problems:
        raise HTTPException(status_code=422, detail=problems)
    page = _list(request, state, db, filters)
    return {
        "total": page.total,
        "conversations": [_serialise(row) for row in page.rows],
        "older": page.older.encode() if page.older else None,
        "newer": page.newer.encode() if page.newer else None,
        "sync_error": synced.error if synced else None,
    }


def _conversation_or_404(db: Session, conversation_id: str) -> ReviewConversation:
    conversation = db.get(ReviewConversation, conversation_id)
    if conversation is None:
        raise HTTPException(status_code=404, detail=NO_SUCH_CONVERSATION)
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
    conversation = _conversation_or_404(db, conversation_id)
    tags, messages = queries.tags_and_messages(db, conversation_id)
    try:
        events = read_conversation_events(state.tracker_engine, conversation_id)
        lines = build_transcript(events, messages, titles=topic_titles(state.settings.content_dir))
    except TrackerUnavailable as unavailable:
        lines = []
        error = error or translate(TRACKER_UNREADABLE, language_of(request), problem=str(unavailable))
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
    done = request.query_params.get("done", "")
    notice = translate(RELEASED, language_of(request)) if done == "released" else None
    return transcript_page(request, state, db, conversation_id, notice=notice)


def _back(conversation_id: str, query: str = "") -> RedirectResponse:
    return RedirectResponse(f"/conversations/{quote(conversation_id, safe='')}{query}", status_code=303)


TagField = Annotated[str, Form(max_length=200)]


@router.post("/conversations/{conversation_id:path}/tags", dependencies=[Depends(verify_csrf)])
def add_tag(
    conversation_id: str, user: CurrentUser, state: StateDep, db: DbSession, tag: TagField = ""
) -> RedirectResponse:
    _conversation_or_404(db, conversation_id)
    cleaned = queries.normalise_tag(tag)
    if cleaned is None:
        raise HTTPException(status_code=422, detail=BAD_TAG)
    queries.add_tag(db, conversation_id, cleaned, user.username, state.clock())
    db.commit()
    return _back(conversation_id)


@router.post("/conversations/{conversation_id:path}/tags/remove", dependencies=[Depends(verify_csrf)])
def remove_tag(
    conversation_id: str, _user: CurrentUser, db: DbSession, tag: TagField = ""
) -> RedirectResponse:
    _conversation_or_404(db, conversation_id)
    queries.remove_tag(db, conversation_id, tag)
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
    conversation = _conversation_or_404(db, conversation_id)
    queries.mark_reviewed(
        conversation, queries.tri_state(reviewed) is not False, user.username, state.clock()
    )
    db.commit()
    return _back(conversation_id)


@router.post(
    "/conversations/{conversation_id:path}/release", dependencies=[Depends(verify_csrf)], response_model=None
)
def release(
    request: Request, conversation_id: str, _admin: AdminUser, state: StateDep, db: DbSession
) -> Response:
    _conversation_or_404(db, conversation_id)
    db.rollback()  # on SQLite an open transaction holds the write lock: not while Rasa works
    token = state.settings.rasa_api_token.get_secret_value()
    try:
        release_handoff(state.rasa, conversation_id, token)
    except RasaUnavailable as unavailable:
        message = translate(NOT_RELEASED, language_of(request), problem=str(unavailable))
        return transcript_page(request, state, db, conversation_id, error=message, status_code=502)
    state.indexer.sync()
    return _back(conversation_id, "?done=released")
