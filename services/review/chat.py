"""A test chat with the running assistant over its REST channel, one conversation per session.

The sender id is ``review-<username>-<random>``, so these chats are easy to tell apart (and to
filter out) in the tracker store. The transcript is kept in the review database, what the
reviewer typed with personal data masked: a reviewer trying the schedule check types an NIK too.
What the bot answered is kept and shown exactly as sent (services/review/masking.py says why); a
button pressed is shown by its title, as the recipient sees it, not by its payload.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review.auth import SignedIn
from services.review.conversations import chat_lines, set_chat_sender
from services.review.i18n import language_of, translate
from services.review.masking import mask_message
from services.review.models import ChatLine
from services.review.rasa_client import RasaUnavailable, send_message
from services.review.web import DbSession, SignedInDep, StateDep, render, verify_csrf

router = APIRouter()

SENDER_PREFIX = "review-"
MAX_MESSAGE_LENGTH = 2000
ASSISTANT_DOWN = "{problem} Apakah asisten sedang berjalan (make run)?"


def new_sender_id(username: str) -> str:
    return f"{SENDER_PREFIX}{username}-{secrets.token_hex(4)}"


def _page(
    request: Request,
    db: Session,
    signed_in: SignedIn,
    *,
    error: str | None = None,
    draft: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "chat.html",
        {
            "lines": chat_lines(db, signed_in.chat_sender_id),
            "sender_id": signed_in.chat_sender_id,
            "error": error,
            "draft": draft,
        },
        status_code=status_code,
    )


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, signed_in: SignedInDep, db: DbSession) -> HTMLResponse:
    return _page(request, db, signed_in)


@router.post("/chat", dependencies=[Depends(verify_csrf)], response_model=None)
def chat_send(
    request: Request,
    signed_in: SignedInDep,
    state: StateDep,
    db: DbSession,
    message: Annotated[str, Form(max_length=MAX_MESSAGE_LENGTH)] = "",
    shown: Annotated[str, Form(max_length=MAX_MESSAGE_LENGTH)] = "",
) -> Response:
    """``message`` goes to Rasa; ``shown`` is what the transcript says (a button's title)."""
    text = message.strip()
    if not text:
        return RedirectResponse("/chat", status_code=303)
    sender_id = signed_in.chat_sender_id or new_sender_id(signed_in.user.username)
    try:
        answers = send_message(state.rasa, sender_id, text)
    except RasaUnavailable as unavailable:
        error = translate(ASSISTANT_DOWN, language_of(request), problem=str(unavailable))
        return _page(request, db, signed_in, error=error, draft=text, status_code=502)
    now = state.clock()
    if signed_in.chat_sender_id is None:
        set_chat_sender(db, signed_in.token_hash, sender_id)
    typed = mask_message(shown.strip() or text)
    db.add(ChatLine(sender_id=sender_id, author="user", text=typed, created_at=now))
    for answer in answers:
        db.add(
            ChatLine(
                sender_id=sender_id,
                author="bot",
                text=answer.text,
                buttons=answer.buttons or None,
                created_at=now,
            )
        )
    db.commit()
    return RedirectResponse("/chat", status_code=303)


@router.post("/chat/new", dependencies=[Depends(verify_csrf)])
def chat_restart(signed_in: SignedInDep, db: DbSession) -> RedirectResponse:
    set_chat_sender(db, signed_in.token_hash, new_sender_id(signed_in.user.username))
    db.commit()
    return RedirectResponse("/chat", status_code=303)
