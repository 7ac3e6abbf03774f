"""Review database tables (SQLAlchemy 2 ORM); a change here needs a migration (services/review/migrations)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from services.common.models import NAMING_CONVENTION, UtcDateTime

CONVERSATION_ID_LENGTH = 255  # Rasa's events.sender_id
PREVIEW_LENGTH = 80  # characters of the last message the conversation list shows
PREVIEW_COLUMN_LENGTH = 100  # room for the ellipsis, and for a longer preview without a migration


class Role(str, Enum):
    REVIEWER = "reviewer"
    ADMIN = "admin"
    # Approves answer changes in the content workflow (four eyes: never their own); otherwise a reviewer.
    APPROVER = "approver"
    # Answers recipients who asked for a person (the officer console, /petugas); "Petugas" on screen.
    OFFICER = "officer"


class Outcome(str, Enum):
    """What became of a user message, by increasing weight: a turn keeps the heaviest it reached."""

    OTHER = "other"
    ANSWERED = "answered"
    FALLBACK = "fallback"
    HANDOFF = "handoff"


OUTCOME_WEIGHT = {outcome.value: weight for weight, outcome in enumerate(Outcome)}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ReviewConversation(Base):
    """One tracker store conversation (sender id), summarised for filtering.

    The indexer owns every column except the ``reviewed*`` ones, which it only clears when the
    recipient writes again; ``open_turn_*`` carry the turn in progress from one sync to the next
    (its bot answer may arrive in a later batch).
    """

    __tablename__ = "review_conversations"
    __table_args__ = (
        Index("ix_review_conversations_recent", "last_message_at", "conversation_id"),
        Index("ix_review_conversations_channel_recent", "channel", "last_message_at"),
        Index("ix_review_conversations_fallback_recent", "has_fallback", "last_message_at"),
        Index("ix_review_conversations_reviewed_recent", "reviewed", "last_message_at"),
        Index("ix_review_conversations_waiting_recent", "waiting_for_officer", "last_message_at"),
        Index("ix_review_conversations_confidence", "lowest_confidence"),
        # No index on started_at alone: SQLite would pick it for "date to" and scan most rows, where
        # the last_message_at index narrows to the few conversations active in the range.
    )

    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_ID_LENGTH), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_messages: Mapped[int] = mapped_column(Integer, default=0)
    has_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    lowest_confidence: Mapped[float | None] = mapped_column(Float)
    waiting_for_officer: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    open_turn_event_id: Mapped[int | None] = mapped_column(BigInteger)
    open_turn_outcome: Mapped[str | None] = mapped_column(String(16))
    # The list's preview of the last message: what the recipient typed (masked), what the bot or an
    # officer said (as written), cut to PREVIEW_LENGTH characters; ``last_author`` says who.
    last_text: Mapped[str | None] = mapped_column(String(PREVIEW_COLUMN_LENGTH))
    last_author: Mapped[str | None] = mapped_column(String(8))


def _conversation_key() -> MappedColumn[str]:
    """The key column of a conversation's labels and tags: they go when the conversation does."""
    return mapped_column(
        ForeignKey("review_conversations.conversation_id", ondelete="CASCADE"), primary_key=True
    )


class ConversationLabel(Base):
    """What a conversation was about: each intent it saw, FAQ answers as ``faq/<topic>``."""

    __tablename__ = "review_conversation_labels"
    __table_args__ = (Index("ix_review_conversation_labels_label", "label", "conversation_id"),)

    conversation_id: Mapped[str] = _conversation_key()
    label: Mapped[str] = mapped_column(String(255), primary_key=True)


class ConversationWord(Base):
    """A word a conversation's recipient typed (masked text, case-folded), for the list's search.

    ``word`` is UTF-8 bytes so that "starts with" is a byte range on every database (search.py).
    """

    __tablename__ = "review_conversation_words"
    __table_args__ = (Index("ix_review_conversation_words_word", "word", "conversation_id"),)

    conversation_id: Mapped[str] = _conversation_key()
    word: Mapped[bytes] = mapped_column(LargeBinary(128), primary_key=True)


class ConversationTag(Base):
    """A reviewer's tag on a conversation."""

    __tablename__ = "review_conversation_tags"
    __table_args__ = (Index("ix_review_conversation_tags_tag", "tag", "conversation_id"),)

    conversation_id: Mapped[str] = _conversation_key()
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReviewMessage(Base):
    """One user message from the tracker store, with what the assistant made of it.

    ``confidence`` is the response selector's for FAQ questions (``topic`` is then ``faq/<topic>``)
    and the intent's otherwise. ``outcome`` is one of :class:`Outcome`.
    """

    __tablename__ = "review_messages"
    __table_args__ = (
        Index("ix_review_messages_conversation", "conversation_id", "timestamp"),
        Index("ix_review_messages_timestamp", "timestamp"),
        Index("ix_review_messages_outcome", "outcome", "timestamp"),
        Index("ix_review_messages_intent", "intent", "timestamp"),
        Index("ix_review_messages_topic", "topic", "timestamp"),
        CheckConstraint("outcome IN ('answered', 'fallback', 'handoff', 'other')", name="outcome"),
    )

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_ID_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    confidence: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.OTHER.value)


class SyncState(Base):
    """How far the indexer has read the tracker store: the last ``events.id`` it processed."""

    __tablename__ = "review_sync_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReviewUser(Base):
    __tablename__ = "review_users"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin', 'approver', 'officer')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_approver(self) -> bool:
        return self.role == Role.APPROVER.value

    @property
    def answers_recipients(self) -> bool:
        """Officers answer handed-over conversations; administrators may do everything officers may."""
        return self.role in (Role.OFFICER.value, Role.ADMIN.value)


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of the
    database cannot be used to sign in."""

    __tablename__ = "review_web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("review_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    chat_sender_id: Mapped[str | None] = mapped_column(String(128))


class LoginFailure(Base):
    """A failed sign-in; throttling counts these per username and per client address."""

    __tablename__ = "review_login_failures"
    __table_args__ = (
        Index("ix_review_login_failures_username", "username", "occurred_at"),
        Index("ix_review_login_failures_client", "client", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))


class ChatLine(Base):
    """A line of a reviewer's test chat with the bot (``/chat``), in the order it was shown."""

    __tablename__ = "review_chat_lines"
    __table_args__ = (Index("ix_review_chat_lines_sender", "sender_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(8))  # "user" or "bot"
    text: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InboxDecision(Base):
    """A reviewer's decision on one inbox message (all its spellings: ``key`` is ``normalize``d).

    ``approved`` (confirmed or corrected: ``label`` set) waits for the export, which turns it into
    ``exported``; ``discarded`` messages (``label`` null) never come back to the inbox.
    """

    __tablename__ = "review_inbox_decisions"
    __table_args__ = (
        Index("ix_review_inbox_decisions_status", "status", "decided_at"),
        CheckConstraint("status IN ('approved', 'discarded', 'exported')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    exported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OfficerClaim(Base):
    """Which officer answers a conversation waiting for one (services/review/officer.py).

    The row stays when the claim ends (``held_by`` null), so taking a claim is one
    ``UPDATE ... WHERE held_by IS NULL``: of two officers at once, exactly one changes the row.
    """

    __tablename__ = "officer_claims"

    conversation_id: Mapped[str] = _conversation_key()
    held_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OfficerAudit(Base):
    """What officers did and when: claims, replies (their text), requeues, closes, canned reply edits.

    Never updated or deleted by the app, and no foreign key: the record outlives its conversation.
    """

    __tablename__ = "officer_audit"
    __table_args__ = (
        Index("ix_officer_audit_conversation", "conversation_id", "id"),
        Index("ix_officer_audit_at", "at"),
        CheckConstraint(
            "action IN ('claim', 'reply', 'requeue', 'close', 'canned_add', 'canned_edit', 'canned_delete')",
            name="officer_audit_action",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    officer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(CONVERSATION_ID_LENGTH))
    text: Mapped[str | None] = mapped_column(Text)


class CannedReply(Base):
    """A ready-made reply an officer can start from (administrators keep the list)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
