"""The officer console's pages: the queue (``/petugas``), one conversation (``/petugas/{id}``) with
the reply box, and the canned replies administrators keep (``/balasan-siap``).

Rules and queries are in officer.py; Rasa is called in rasa_client.py, never while a database
transaction is open (on SQLite an open transaction holds the write lock). Nothing is recorded as
sent unless Rasa accepted it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review import officer
from services.review.conversations import tags_and_messages
from services.review.i18n import language_of, translate
from services.review.indexer import TrackerUnavailable, read_conversation_events
from services.review.models import ReviewConversation, ReviewUser
from services.review.officer import Action, Refused
from services.review.rasa_client import ApiTokenMissing, RasaUnavailable, release_handoff, send_officer_reply
from services.review.state import ReviewState
from services.review.transcript import build_transcript
from services.review.web import AdminUser, CurrentUser, DbSession, StateDep, Synced, render, verify_csrf

router = APIRouter()

QUEUE_REFRESH_SECONDS = 15
OFFICERS_ONLY = "Hanya petugas atau administrator yang boleh membuka konsol petugas."
NO_SUCH_CONVERSATION = "Percakapan ini tidak ada."
NOT_SENT = "Balasan tidak terkirim dan tidak dicatat sebagai terkirim."
NOT_CLOSED = "Percakapan belum dikembalikan ke bot dan masih Anda tangani."
RASA_DOWN = "Asisten (Rasa) tidak dapat dihubungi. Coba lagi sebentar lagi."
RASA_ERROR = "Asisten (Rasa) menjawab dengan kesalahan HTTP {status}."
NO_TOKEN = (
    "RASA_API_TOKEN belum diatur untuk aplikasi ini: balasan petugas hanya dikirim lewat API Rasa "
    "yang memerlukan token itu (make run selalu mengaturnya)."
)
TRACKER_DOWN = "Riwayat percakapan tidak dapat dibaca saat ini."
NOTICES = {
    "claimed": "Percakapan ini sekarang Anda tangani.",
    "sent": "Balasan terkirim.",
    "closed": "Percakapan ditutup dan dikembalikan ke bot.",
    "requeued": "Percakapan dikembalikan ke antrean.",
    "canned": "Balasan siap pakai disimpan.",
}


def get_officer(request: Request, user: CurrentUser) -> ReviewUser:
    if not officer.may_answer(user):
        raise HTTPException(status_code=403, detail=translate(OFFICERS_ONLY, language_of(request)))
    return user


OfficerUser = Annotated[ReviewUser, Depends(get_officer)]
ReplyField = Annotated[str, Form()]


# --- what a page shows ------------------------------------------------------------------------


def waited_text(waited: timedelta, language: str) -> str:
    """ "menunggu 12 menit": minutes within the hour, then hours and minutes, then days and hours."""
    minutes = int(waited.total_seconds() // 60)
    if minutes < 1:
        return translate("menunggu kurang dari 1 menit", language)
    if minutes < 60:
        return translate("menunggu {n} menit", language, n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return translate("menunggu {h} jam {m} menit", language, h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return translate("menunggu {d} hari {h} jam", language, d=days, h=hours)


def window_text(window: officer.ReplyWindow, language: str) -> str | None:
    left = window.left
    if left is None or not window.open:
        return None
    if left < timedelta(hours=1):
        minutes = max(1, int(left.total_seconds() // 60))
        return translate("Jendela balasan berakhir dalam {n} menit", language, n=minutes)
    return translate("Jendela balasan berakhir dalam {n} jam", language, n=officer.hours_left(left))


def refused_text(refused: Refused, language: str) -> str:
    return translate(refused.message, language, **refused.values)


def rasa_text(error: Exception, language: str) -> str:
    if isinstance(error, ApiTokenMissing):
        return translate(NO_TOKEN, language)
    if isinstance(error, RasaUnavailable) and error.status is not None:
        return translate(RASA_ERROR, language, status=error.status)
    return translate(RASA_DOWN, language)


def _conversation_or_404(request: Request, db: Session, conversation_id: str) -> ReviewConversation:
    """The conversation, or 404; an id no conversation can have (too long, NUL, a lone surrogate:
    PostgreSQL would refuse the query) is not looked up."""
    possible = officer.possible_conversation_id(conversation_id)
    conversation = db.get(ReviewConversation, conversation_id) if possible else None
    if conversation is None:
        raise HTTPException(status_code=404, detail=translate(NO_SUCH_CONVERSATION, language_of(request)))
    return conversation


def _prefill(request: Request, db: Session) -> str:
    """The canned reply chosen with ``?siap=<id>`` (links on the page: no script needed)."""
    chosen = request.query_params.get("siap", "")
    if not chosen.isdigit() or len(chosen) > 9:
        return ""
    found = next((reply for reply in officer.canned_replies(db) if reply.id == int(chosen)), None)
    return found.text if found else ""


def conversation_page(
    request: Request,
    state: ReviewState,
    db: Session,
    user: ReviewUser,
    conversation_id: str,
    *,
    error: str | None = None,
    draft: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    conversation = _conversation_or_404(request, db, conversation_id)
    now = state.clock()
    _tags, messages = tags_and_messages(db, conversation_id)
    try:
        lines = build_transcript(read_conversation_events(state.tracker_engine, conversation_id), messages)
    except TrackerUnavailable:
        lines = []
        error = error or translate(TRACKER_DOWN, language)
    holder = officer.holder(db, conversation_id)
    window = officer.reply_window(db, conversation, now)
    mine = holder == user.username and conversation.waiting_for_officer
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render(
        request,
        "officer_conversation.html",
        {
            "conversation": conversation,
            "lines": lines,
            "holder": holder,
            "mine": mine,
            "can_reply": mine and window.open,
            "window_open": window.open,
            "window_text": window_text(window, language),
            "waiting": conversation.waiting_for_officer,
            "canned": officer.canned_replies(db),
            "draft": draft if draft is not None else _prefill(request, db),
            "history": officer.history(db, conversation_id),
            "max_reply": officer.MAX_REPLY_CHARACTERS,
            "error": error,
            "notice": translate(notice, language) if notice else None,
            "quoted_id": quote(conversation_id, safe=""),
        },
        status_code=status_code,
    )


def _to_conversation(conversation_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/petugas/{quote(conversation_id, safe='')}?done={done}", status_code=303)


# --- the queue --------------------------------------------------------------------------------


@router.get("/petugas", response_class=HTMLResponse)
def queue_page(
    request: Request, user: OfficerUser, state: StateDep, synced: Synced, db: DbSession
) -> Response:
    if officer.release_stale_claims(db):
        db.commit()
    language = language_of(request)
    entries = officer.queue(db, state.clock())
    db.rollback()
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render(
        request,
        "officer_queue.html",
        {
            "entries": [(entry, waited_text(entry.waited, language)) for entry in entries],
            "refresh_seconds": QUEUE_REFRESH_SECONDS,
            "sync_error": synced.error if synced else None,
            "notice": translate(notice, language) if notice else None,
            "me": user.username,
        },
    )


# --- one conversation -------------------------------------------------------------------------


@router.get("/petugas/{conversation_id:path}", response_class=HTMLResponse)
def conversation_view(
    request: Request, conversation_id: str, user: OfficerUser, state: StateDep, synced: Synced, db: DbSession
) -> HTMLResponse:
    return conversation_page(request, state, db, user, conversation_id)


@router.post(
    "/petugas/{conversation_id:path}/ambil", dependencies=[Depends(verify_csrf)], response_model=None
)
def take(
    request: Request, conversation_id: str, user: OfficerUser, state: StateDep, db: DbSession
) -> Response:
    _conversation_or_404(request, db, conversation_id)
    officer.release_stale_claims(db)
    try:
        officer.claim(db, conversation_id, user.username, state.clock())
    except Refused as refused:
        db.commit()  # the stale claims released above
        message = refused_text(refused, language_of(request))
        return conversation_page(request, state, db, user, conversation_id, error=message, status_code=409)
    db.commit()
    return _to_conversation(conversation_id, "claimed")


@router.post(
    "/petugas/{conversation_id:path}/kirim", dependencies=[Depends(verify_csrf)], response_model=None
)
def reply(
    request: Request,
    conversation_id: str,
    user: OfficerUser,
    state: StateDep,
    db: DbSession,
    balasan: ReplyField = "",
) -> Response:
    language = language_of(request)
    state.indexer.sync_if_due()  # first (its own transaction): the window counts from the latest message
    _conversation_or_404(request, db, conversation_id)
    try:
        text = officer.check_reply(db, conversation_id, user.username, balasan, state.clock())
    except Refused as refused:
        draft = officer.clean_text(balasan)[: officer.MAX_REPLY_CHARACTERS * 20]
        return conversation_page(
            request,
            state,
            db,
            user,
            conversation_id,
            error=refused_text(refused, language),
            draft=draft,
            status_code=422,
        )
    db.rollback()  # no transaction (SQLite's write lock) while Rasa works
    token = state.settings.rasa_api_token.get_secret_value()
    try:
        send_officer_reply(state.rasa, conversation_id, text, token)
    except (RasaUnavailable, ApiTokenMissing) as failed:
        message = f"{translate(NOT_SENT, language)} {rasa_text(failed, language)}"
        return conversation_page(
            request, state, db, user, conversation_id, error=message, draft=text, status_code=502
        )
    officer.record(db, user.username, Action.REPLY, state.clock(), conversation_id, text)
    db.commit()
    state.indexer.sync()
    return _to_conversation(conversation_id, "sent")


@router.post(
    "/petugas/{conversation_id:path}/tutup", dependencies=[Depends(verify_csrf)], response_model=None
)
def close(
    request: Request, conversation_id: str, user: OfficerUser, state: StateDep, db: DbSession
) -> Response:
    """Hand the conversation back to the bot: the assistant tells the recipient, then the claim ends."""
    language = language_of(request)
    _conversation_or_404(request, db, conversation_id)
    try:
        officer.require_holder(db, conversation_id, user.username)
    except Refused as refused:
        return conversation_page(
            request, state, db, user, conversation_id, error=refused_text(refused, language), status_code=409
        )
    db.rollback()
    try:
        release_handoff(state.rasa, conversation_id, state.settings.rasa_api_token.get_secret_value())
    except RasaUnavailable as failed:
        message = f"{translate(NOT_CLOSED, language)} {rasa_text(failed, language)}"
        return conversation_page(request, state, db, user, conversation_id, error=message, status_code=502)
    officer.end_claim(db, conversation_id, user, Action.CLOSE, state.clock())
    db.commit()
    state.indexer.sync()
    return RedirectResponse("/petugas?done=closed", status_code=303)


@router.post(
    "/petugas/{conversation_id:path}/antrean", dependencies=[Depends(verify_csrf)], response_model=None
)
def requeue(
    request: Request, conversation_id: str, user: OfficerUser, state: StateDep, db: DbSession
) -> Response:
    """Back in the queue for another officer; nothing is sent to the recipient."""
    _conversation_or_404(request, db, conversation_id)
    try:
        officer.end_claim(db, conversation_id, user, Action.REQUEUE, state.clock())
    except Refused as refused:
        message = refused_text(refused, language_of(request))
        return conversation_page(request, state, db, user, conversation_id, error=message, status_code=409)
    db.commit()
    return RedirectResponse("/petugas?done=requeued", status_code=303)


# --- canned replies (administrators) ----------------------------------------------------------


def canned_page(
    request: Request, db: Session, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render(
        request,
        "canned_replies.html",
        {
            "replies": officer.canned_replies(db),
            "max_reply": officer.MAX_REPLY_CHARACTERS,
            "max_title": officer.MAX_TITLE_CHARACTERS,
            "error": error,
            "notice": translate(notice, language_of(request)) if notice else None,
        },
        status_code=status_code,
    )


@router.get("/balasan-siap", response_class=HTMLResponse)
def canned_list(request: Request, _admin: AdminUser, db: DbSession) -> HTMLResponse:
    return canned_page(request, db)


def _canned_change(request: Request, db: Session, change: Any) -> Response:
    try:
        change()
    except Refused as refused:
        db.rollback()
        return canned_page(request, db, error=refused_text(refused, language_of(request)), status_code=422)
    db.commit()
    return RedirectResponse("/balasan-siap?done=canned", status_code=303)


def _reply_id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 9 else -1


@router.post("/balasan-siap", dependencies=[Depends(verify_csrf)], response_model=None)
def canned_add(
    request: Request,
    admin: AdminUser,
    state: StateDep,
    db: DbSession,
    judul: ReplyField = "",
    teks: ReplyField = "",
) -> Response:
    return _canned_change(
        request, db, lambda: officer.add_canned(db, judul, teks, admin.username, state.clock())
    )


@router.post("/balasan-siap/ubah", dependencies=[Depends(verify_csrf)], response_model=None)
def canned_edit(
    request: Request,
    admin: AdminUser,
    state: StateDep,
    db: DbSession,
    id: ReplyField = "",
    judul: ReplyField = "",
    teks: ReplyField = "",
) -> Response:
    return _canned_change(
        request,
        db,
        lambda: officer.edit_canned(db, _reply_id(id), judul, teks, admin.username, state.clock()),
    )


@router.post("/balasan-siap/hapus", dependencies=[Depends(verify_csrf)], response_model=None)
def canned_delete(
    request: Request, admin: AdminUser, state: StateDep, db: DbSession, id: ReplyField = ""
) -> Response:
    return _canned_change(
        request, db, lambda: officer.delete_canned(db, _reply_id(id), admin.username, state.clock())
    )
