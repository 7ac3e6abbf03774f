"""The officer console's rules and queries: the queue, claims, the reply window, replies, the audit.

A conversation waits for an officer while the indexer says so (``waiting_for_officer``). One officer
at a time answers it: a claim is taken with one ``UPDATE ... WHERE held_by IS NULL`` and counted by
its rowcount, so of two officers pressing "Ambil" together exactly one gets it, on SQLite and on
PostgreSQL alike. Only the holder replies; the holder or an administrator puts it back in the queue.
A claim ends with its handoff: when the conversation no longer waits, the claim is cleared.

Everything officers do to a conversation goes into :class:`OfficerAudit`, replies with their text.
Pages are in officer_pages.py; what is sent to Rasa is in rasa_client.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.handoff import EXTERNAL_MESSAGE_PREFIX, OFFICER_REPLY_MAX_CHARACTERS, REPLY_WINDOW_SECONDS
from core.text import DIRECTION_CONTROLS, UNWANTED_IN_TEXT, without_direction_controls
from services.review.conversations import waiting_for_officer
from services.review.models import (
    CONVERSATION_ID_LENGTH,
    CannedReply,
    OfficerAudit,
    OfficerClaim,
    ReviewConversation,
    ReviewMessage,
    ReviewUser,
)

WHATSAPP_CHANNEL = "whatsapp"  # rasa_project/channels/whatsapp.py CHANNEL_NAME
REPLY_WINDOW = timedelta(seconds=REPLY_WINDOW_SECONDS)
MAX_REPLY_CHARACTERS = OFFICER_REPLY_MAX_CHARACTERS  # WhatsApp allows 4,096; the prefix line is added
MAX_TITLE_CHARACTERS = 80
PREVIEW_CHARACTERS = 120

_BLANK_LINES = re.compile(r"\n{3,}")


class Action(str, Enum):
    CLAIM = "claim"
    REPLY = "reply"
    REQUEUE = "requeue"
    CLOSE = "close"
    CANNED_ADD = "canned_add"
    CANNED_EDIT = "canned_edit"
    CANNED_DELETE = "canned_delete"


class Refused(Exception):
    """What the officer asked for cannot be done; the message (Indonesian) says why.

    ``values`` fill the message's placeholders after it is translated.
    """

    def __init__(self, message: str, **values: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


NOT_WAITING = "Percakapan ini tidak sedang menunggu petugas (sudah kembali ke bot)."
HELD_BY_OTHER = "Sedang ditangani oleh {name}."
NOT_YOURS = "Ambil percakapan ini dulu: hanya petugas yang menanganinya yang dapat membalas atau menutupnya."
WINDOW_CLOSED = (
    "Jendela balasan WhatsApp sudah berakhir: lebih dari 24 jam sejak pesan terakhir penerima. "
    "WhatsApp tidak mengizinkan balasan lagi sampai penerima menulis lagi."
)
EMPTY_REPLY = "Balasan kosong. Tulis pesan untuk penerima."
REPLY_TOO_LONG = "Balasan terlalu panjang: {count} karakter, paling banyak {limit}."
EMPTY_TITLE = "Judul dan teks balasan siap pakai wajib diisi."
TITLE_TOO_LONG = "Judul terlalu panjang: paling banyak {limit} karakter."
NO_SUCH_CANNED = "Balasan siap pakai ini tidak ada (mungkin sudah dihapus)."


def may_answer(user: ReviewUser) -> bool:
    """Officers answer recipients; administrators may do everything officers may."""
    return user.answers_recipients


def clean_text(raw: str) -> str:
    """Text as it may reach a recipient: well-formed Unicode (NFC), no control characters or
    direction overrides, Windows line ends as ``\\n``, at most two blank lines in a row, trimmed."""
    return _BLANK_LINES.sub("\n\n", without_direction_controls(raw)).strip()


def possible_conversation_id(value: str) -> bool:
    """Whether a conversation could have this id: not too long, nothing a channel refuses."""
    return (
        len(value) <= CONVERSATION_ID_LENGTH
        and UNWANTED_IN_TEXT.search(value) is None
        and DIRECTION_CONTROLS.search(value) is None
    )


def valid_reply(raw: str) -> str:
    """The cleaned reply, or Refused when it is empty or longer than WhatsApp text should be."""
    text = clean_text(raw)
    if not text:
        raise Refused(EMPTY_REPLY)
    if len(text) > MAX_REPLY_CHARACTERS:
        raise Refused(REPLY_TOO_LONG, count=len(text), limit=MAX_REPLY_CHARACTERS)
    return text


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    channel: str | None
    since: datetime  # when the recipient asked for an officer
    waited: timedelta
    preview: str | None  # the recipient's last message, masked by the indexer
    held_by: str | None


def recipient_messages() -> list[ColumnElement[bool]]:
    """Conditions for messages the recipient wrote (not intents an officer or the system triggered)."""
    return [
        ReviewMessage.text.is_not(None),
        ~ReviewMessage.text.startswith(EXTERNAL_MESSAGE_PREFIX, autoescape=True),
    ]


def last_recipient_messages(session: Session, conversation_ids: list[str]) -> dict[str, ReviewMessage]:
    """Each conversation's latest message from its recipient."""
    if not conversation_ids:
        return {}
    latest = (
        select(ReviewMessage.conversation_id, func.max(ReviewMessage.event_id).label("event_id"))
        .where(ReviewMessage.conversation_id.in_(conversation_ids), *recipient_messages())
        .group_by(ReviewMessage.conversation_id)
        .subquery()
    )
    found = session.scalars(select(ReviewMessage).join(latest, latest.c.event_id == ReviewMessage.event_id))
    return {message.conversation_id: message for message in found}


def holders(session: Session, conversation_ids: list[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(OfficerClaim.conversation_id, OfficerClaim.held_by).where(
            OfficerClaim.conversation_id.in_(conversation_ids), OfficerClaim.held_by.is_not(None)
        )
    )
    return {conversation_id: held_by for conversation_id, held_by in rows if held_by}


def queue(session: Session, now: datetime) -> list[QueueEntry]:
    """Every conversation waiting for an officer, the longest waiting first, with who holds it."""
    waiting = waiting_for_officer(session)
    ids = [entry.conversation_id for entry in waiting]
    found = select(ReviewConversation.conversation_id, ReviewConversation.channel).where(
        ReviewConversation.conversation_id.in_(ids)
    )
    channels = {conversation_id: channel for conversation_id, channel in session.execute(found)}
    last = last_recipient_messages(session, ids)
    held = holders(session, ids)
    entries = []
    for entry in waiting:
        message = last.get(entry.conversation_id)
        text = message.text if message is not None else None
        entries.append(
            QueueEntry(
                conversation_id=entry.conversation_id,
                channel=channels.get(entry.conversation_id),
                since=entry.since,
                waited=max(now - entry.since, timedelta(0)),
                preview=text
                if text is None or len(text) <= PREVIEW_CHARACTERS
                else text[:PREVIEW_CHARACTERS] + "…",
                held_by=held.get(entry.conversation_id),
            )
        )
    return entries


def release_stale_claims(session: Session) -> int:
    """Claims on conversations that no longer wait (the recipient typed "menu", a new session)
    end with their handoff; returns how many. Written only when there is one, so that a queue that
    refreshes itself does not take SQLite's write lock every time."""
    stale = select(ReviewConversation.conversation_id).where(
        ReviewConversation.waiting_for_officer.is_(False)
    )
    condition = (OfficerClaim.held_by.is_not(None), OfficerClaim.conversation_id.in_(stale))
    if session.scalar(select(func.count()).select_from(OfficerClaim).where(*condition)) == 0:
        return 0
    result = session.execute(
        update(OfficerClaim).where(*condition).values(held_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- claims -----------------------------------------------------------------------------------


def holder(session: Session, conversation_id: str) -> str | None:
    return session.scalar(select(OfficerClaim.held_by).where(OfficerClaim.conversation_id == conversation_id))


def _ensure_claim_row(session: Session, conversation_id: str) -> None:
    """The conversation's claim row, unheld, unless there is one (two inserting at once is fine)."""
    dialect = session.get_bind().dialect.name
    values = {"conversation_id": conversation_id, "held_by": None, "claimed_at": None}
    if dialect == "postgresql":
        session.execute(postgresql.insert(OfficerClaim).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(OfficerClaim).values(values).on_conflict_do_nothing())
    elif session.get(OfficerClaim, conversation_id) is None:
        session.execute(insert(OfficerClaim).values(values))


def waiting_conversation(session: Session, conversation_id: str) -> ReviewConversation:
    conversation = session.get(ReviewConversation, conversation_id)
    if conversation is None or not conversation.waiting_for_officer:
        raise Refused(NOT_WAITING)
    return conversation


def claim(session: Session, conversation_id: str, officer: str, now: datetime) -> None:
    """Take the conversation for ``officer``; Refused when it does not wait or another holds it.

    Taking one's own claim again is no error (a second tab, a double click).
    """
    waiting_conversation(session, conversation_id)
    _ensure_claim_row(session, conversation_id)
    taken = session.execute(
        update(OfficerClaim)
        .where(OfficerClaim.conversation_id == conversation_id, OfficerClaim.held_by.is_(None))
        .values(held_by=officer, claimed_at=now),
        execution_options={"synchronize_session": False},
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        record(session, officer, Action.CLAIM, now, conversation_id)
        return
    current = holder(session, conversation_id)
    if current != officer:
        raise Refused(HELD_BY_OTHER, name=current or "?")


def require_holder(session: Session, conversation_id: str, officer: str) -> ReviewConversation:
    """The waiting conversation, if ``officer`` holds it; Refused otherwise (saying who does)."""
    conversation = waiting_conversation(session, conversation_id)
    current = holder(session, conversation_id)
    if current is None:
        raise Refused(NOT_YOURS)
    if current != officer:
        raise Refused(HELD_BY_OTHER, name=current)
    return conversation


def end_claim(
    session: Session, conversation_id: str, user: ReviewUser, action: Action, now: datetime
) -> None:
    """Release the claim (back in the queue, or closed): by its holder, or by an administrator
    (an officer may have gone home holding it). Closing also needs the claim's holder."""
    current = holder(session, conversation_id)
    if current != user.username and not (action is Action.REQUEUE and user.is_admin and current):
        if current is None:
            raise Refused(NOT_YOURS)
        raise Refused(HELD_BY_OTHER, name=current)
    session.execute(
        update(OfficerClaim)
        .where(OfficerClaim.conversation_id == conversation_id)
        .values(held_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )
    note = None if current == user.username else f"klaim milik {current}"
    record(session, user.username, action, now, conversation_id, note)


# --- the reply window -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyWindow:
    """Meta's customer-service window: WhatsApp replies only within 24 h of the recipient's last
    message. ``closes_at`` is None when the channel has no such window (REST)."""

    closes_at: datetime | None
    now: datetime

    @property
    def open(self) -> bool:
        return self.closes_at is None or self.now < self.closes_at

    @property
    def left(self) -> timedelta | None:
        return None if self.closes_at is None else max(self.closes_at - self.now, timedelta(0))


def reply_window(session: Session, conversation: ReviewConversation, now: datetime) -> ReplyWindow:
    if conversation.channel != WHATSAPP_CHANNEL:
        return ReplyWindow(None, now)
    last = last_recipient_messages(session, [conversation.conversation_id]).get(conversation.conversation_id)
    if last is None:
        return ReplyWindow(now, now)  # nothing from the recipient: nothing to answer within
    return ReplyWindow(last.timestamp + REPLY_WINDOW, now)


def check_reply(session: Session, conversation_id: str, officer: str, raw: str, now: datetime) -> str:
    """The reply to send, after every check a reply must pass; Refused with the first that fails."""
    conversation = require_holder(session, conversation_id, officer)
    if not reply_window(session, conversation, now).open:
        raise Refused(WINDOW_CLOSED)
    return valid_reply(raw)


def hours_left(left: timedelta) -> int:
    """Whole hours, rounded down: the officer is never told there is more time than there is."""
    return max(1, math.floor(left.total_seconds() / 3600))


# --- the audit --------------------------------------------------------------------------------


def record(
    session: Session,
    officer: str,
    action: Action,
    now: datetime,
    conversation_id: str | None,
    text: str | None = None,
) -> None:
    session.add(
        OfficerAudit(at=now, officer=officer, action=action.value, conversation_id=conversation_id, text=text)
    )


def history(session: Session, conversation_id: str) -> list[OfficerAudit]:
    return list(
        session.scalars(
            select(OfficerAudit)
            .where(OfficerAudit.conversation_id == conversation_id)
            .order_by(OfficerAudit.id)
        )
    )


# --- canned replies ---------------------------------------------------------------------------


def canned_replies(session: Session) -> list[CannedReply]:
    return list(session.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id)))


def _valid_canned(title: str, text: str) -> tuple[str, str]:
    cleaned_title = " ".join(clean_text(title).split())
    if not cleaned_title or not clean_text(text):
        raise Refused(EMPTY_TITLE)
    if len(cleaned_title) > MAX_TITLE_CHARACTERS:
        raise Refused(TITLE_TOO_LONG, limit=MAX_TITLE_CHARACTERS)
    return cleaned_title, valid_reply(text)


def add_canned(session: Session, title: str, text: str, by: str, now: datetime) -> CannedReply:
    cleaned_title, cleaned_text = _valid_canned(title, text)
    reply = CannedReply(title=cleaned_title, text=cleaned_text, updated_by=by, updated_at=now)
    session.add(reply)
    record(session, by, Action.CANNED_ADD, now, None, f"{cleaned_title}: {cleaned_text}")
    return reply


def edit_canned(
    session: Session, reply_id: int, title: str, text: str, by: str, now: datetime
) -> CannedReply:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise Refused(NO_SUCH_CANNED)
    reply.title, reply.text = _valid_canned(title, text)
    reply.updated_by, reply.updated_at = by, now
    record(session, by, Action.CANNED_EDIT, now, None, f"{reply.title}: {reply.text}")
    return reply


def delete_canned(session: Session, reply_id: int, by: str, now: datetime) -> None:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise Refused(NO_SUCH_CANNED)
    record(session, by, Action.CANNED_DELETE, now, None, f"{reply.title}: {reply.text}")
    session.delete(reply)
