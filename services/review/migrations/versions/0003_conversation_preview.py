"""Conversation list: a preview of the last message, and the word index of the text search.

Adds ``review_conversations.last_text`` / ``last_author`` and the table ``review_conversation_words``
(services/review/search.py). Conversations indexed before this revision are filled in from the
messages the review database already holds (their text is stored masked): the words of every
message, and the last message the recipient typed as the preview (the bot's texts were never
stored, so the preview of an old conversation is the recipient's until the next message). Like 0001,
what is already there (a database ``create_all`` made) is kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Column, ForeignKey, LargeBinary, String

from services.review.search import word_keys

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONVERSATIONS = "review_conversations"
WORDS = "review_conversation_words"
PREVIEW_LENGTH = 80  # as services/review/models.py had it at this revision
_BATCH = 5_000


def _create_words_table() -> sa.Table:
    words = op.create_table(
        WORDS,
        Column(
            "conversation_id",
            String(255),
            ForeignKey(f"{CONVERSATIONS}.conversation_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("word", LargeBinary(128), primary_key=True),
    )
    op.create_index("ix_review_conversation_words_word", WORDS, ["word", "conversation_id"])
    return words


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1].rstrip() + "…"


def _backfill(bind: sa.Connection, words: sa.Table) -> None:
    """Words and previews of the conversations indexed so far, one conversation at a time."""
    messages = sa.table(
        "review_messages",
        sa.column("conversation_id"),
        sa.column("timestamp"),
        sa.column("event_id"),
        sa.column("text"),
    )
    conversations = sa.table(
        CONVERSATIONS, sa.column("conversation_id"), sa.column("last_text"), sa.column("last_author")
    )
    query = sa.select(messages.c.conversation_id, messages.c.text).order_by(
        messages.c.conversation_id, messages.c.timestamp, messages.c.event_id
    )
    rows: list[dict[str, Any]] = []
    previews: list[dict[str, Any]] = []
    current: str | None = None
    texts: list[str] = []

    def finish() -> None:
        if current is None:
            return
        rows.extend({"conversation_id": current, "word": word} for word in sorted(word_keys(texts)))
        typed = [text for text in texts if text and not text.startswith("EXTERNAL: ")]
        if typed:
            previews.append({"id": current, "text": _preview(typed[-1])})

    update = (
        sa.update(conversations)
        .where(conversations.c.conversation_id == sa.bindparam("id"))
        .values(last_text=sa.bindparam("text"), last_author="user")
    )
    for conversation_id, text in bind.execute(query).all():
        if conversation_id != current:
            finish()
            current, texts = conversation_id, []
            if len(rows) >= _BATCH:
                bind.execute(sa.insert(words), rows)
                bind.execute(update, previews)
                rows, previews = [], []
        texts.append(text or "")
    finish()
    if rows:
        bind.execute(sa.insert(words), rows)
    if previews:
        bind.execute(update, previews)


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.inspect(bind)
    columns = {column["name"] for column in found.get_columns(CONVERSATIONS)}
    if "last_text" not in columns:
        op.add_column(CONVERSATIONS, Column("last_text", String(100)))
    if "last_author" not in columns:
        op.add_column(CONVERSATIONS, Column("last_author", String(8)))
    if WORDS not in found.get_table_names():
        _backfill(bind, _create_words_table())


def downgrade() -> None:
    op.drop_table(WORDS)
    with op.batch_alter_table(CONVERSATIONS) as batch:
        batch.drop_column("last_author")
        batch.drop_column("last_text")
