"""Initial schema: the conversation index, users and sessions, chat lines, inbox decisions, answer edits.

Before Alembic the app made its tables with ``create_all``; such a database (no ``alembic_version``)
is adopted here, not rebuilt: tables and indexes it lacks are added, and a ``review_users`` made
before the approver role has its role check rebuilt to allow it (batch mode: SQLite copies the
table). On an empty database this simply creates the schema.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text

from services.common.models import NAMING_CONVENTION

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('reviewer', 'admin', 'approver')"


def _schema() -> sa.MetaData:
    """The tables as of this revision (stored times are naive UTC: ``UtcDateTime``)."""
    schema = sa.MetaData(naming_convention=NAMING_CONVENTION)

    def table(name: str, *items: Any) -> None:
        sa.Table(name, schema, *items)

    def conversation_key() -> Column[str]:
        key = ForeignKey("review_conversations.conversation_id", ondelete="CASCADE")
        return Column("conversation_id", String(255), key, primary_key=True)

    def required(name: str, *args: Any, **kw: Any) -> Column[Any]:
        return Column(name, *args, nullable=False, **kw)

    table(
        "review_conversations",
        Column("conversation_id", String(255), primary_key=True),
        Column("channel", String(64)),
        required("started_at", DateTime()),
        required("last_message_at", DateTime()),
        required("user_messages", Integer()),
        required("has_fallback", Boolean()),
        Column("lowest_confidence", Float()),
        required("waiting_for_officer", Boolean()),
        required("reviewed", Boolean()),
        Column("reviewed_by", String(64)),
        Column("reviewed_at", DateTime()),
        required("last_event_id", BigInteger()),
        Column("open_turn_event_id", BigInteger()),
        Column("open_turn_outcome", String(16)),
        Index("ix_review_conversations_recent", "last_message_at", "conversation_id"),
        Index("ix_review_conversations_channel_recent", "channel", "last_message_at"),
        Index("ix_review_conversations_fallback_recent", "has_fallback", "last_message_at"),
        Index("ix_review_conversations_reviewed_recent", "reviewed", "last_message_at"),
        Index("ix_review_conversations_waiting_recent", "waiting_for_officer", "last_message_at"),
        Index("ix_review_conversations_confidence", "lowest_confidence"),
    )
    table(
        "review_conversation_labels",
        conversation_key(),
        Column("label", String(255), primary_key=True),
        Index("ix_review_conversation_labels_label", "label", "conversation_id"),
    )
    table(
        "review_conversation_tags",
        conversation_key(),
        Column("tag", String(64), primary_key=True),
        required("created_by", String(64)),
        required("created_at", DateTime()),
        Index("ix_review_conversation_tags_tag", "tag", "conversation_id"),
    )
    table(
        "review_messages",
        Column("event_id", BigInteger(), primary_key=True, autoincrement=False),
        required("conversation_id", String(255)),
        required("timestamp", DateTime()),
        Column("channel", String(64)),
        Column("text", Text()),
        Column("intent", String(255)),
        Column("topic", String(255)),
        Column("confidence", Float()),
        required("outcome", String(16)),
        Index("ix_review_messages_conversation", "conversation_id", "timestamp"),
        Index("ix_review_messages_timestamp", "timestamp"),
        Index("ix_review_messages_outcome", "outcome", "timestamp"),
        Index("ix_review_messages_intent", "intent", "timestamp"),
        Index("ix_review_messages_topic", "topic", "timestamp"),
        sa.CheckConstraint("outcome IN ('answered', 'fallback', 'handoff', 'other')", name="outcome"),
    )
    table(
        "review_sync_state",
        Column("name", String(32), primary_key=True),
        required("last_event_id", BigInteger()),
        Column("synced_at", DateTime()),
    )
    table(
        "review_users",
        Column("id", Integer(), primary_key=True),
        required("username", String(64), unique=True),
        required("password_hash", String(255)),
        required("role", String(16)),
        required("active", Boolean()),
        required("created_at", DateTime()),
        sa.CheckConstraint(ROLES, name="role"),
    )
    table(
        "review_web_sessions",
        Column("token_hash", String(64), primary_key=True),
        required("user_id", Integer(), ForeignKey("review_users.id", ondelete="CASCADE"), index=True),
        required("csrf_token", String(64)),
        required("created_at", DateTime()),
        required("expires_at", DateTime(), index=True),
        Column("chat_sender_id", String(128)),
    )
    table(
        "review_login_failures",
        Column("id", Integer(), primary_key=True),
        required("occurred_at", DateTime()),
        required("username", String(64)),
        required("client", String(64)),
        Index("ix_review_login_failures_username", "username", "occurred_at"),
        Index("ix_review_login_failures_client", "client", "occurred_at"),
    )
    table(
        "review_chat_lines",
        Column("id", Integer(), primary_key=True),
        required("sender_id", String(128)),
        required("author", String(8)),
        Column("text", Text()),
        Column("buttons", sa.JSON()),
        required("created_at", DateTime()),
        Index("ix_review_chat_lines_sender", "sender_id", "id"),
    )
    table(
        "review_inbox_decisions",
        Column("id", Integer(), primary_key=True),
        required("key", Text(), unique=True),
        required("text", Text()),
        Column("label", String(255)),
        required("status", String(16)),
        required("decided_by", String(64)),
        required("decided_at", DateTime()),
        Column("exported_at", DateTime()),
        Index("ix_review_inbox_decisions_status", "status", "decided_at"),
        sa.CheckConstraint("status IN ('approved', 'discarded', 'exported')", name="status"),
    )
    table(
        "review_content_revisions",
        Column("id", Integer(), primary_key=True),
        required("response", String(255)),
        required("text", Text()),
        required("valid_as_of", String(10)),
        required("next_review", String(10)),
        required("note", Text()),
        required("base_digest", String(64)),
        required("status", String(16)),
        required("created_by", String(64)),
        required("created_at", DateTime()),
        Column("decided_by", String(64)),
        Column("decided_at", DateTime()),
        Index("ix_review_content_revisions_response", "response", "id"),
        Index("ix_review_content_revisions_status", "status", "id"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'superseded')", name="content_revision_status"
        ),
    )
    return schema


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.inspect(bind)
    schema = _schema()
    existing = set(found.get_table_names())
    schema.create_all(bind)  # only the tables that are not there yet, with their indexes
    for table in schema.sorted_tables:
        if table.name in existing:
            indexes = {index["name"] for index in found.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(bind)
    if "review_users" in existing:
        checks = found.get_check_constraints("review_users")
        if not any("approver" in str(check.get("sqltext")) for check in checks):
            with op.batch_alter_table("review_users") as batch:
                batch.drop_constraint(op.f("ck_review_users_role"), type_="check")
                batch.create_check_constraint(op.f("ck_review_users_role"), ROLES)


def downgrade() -> None:
    _schema().drop_all(op.get_bind())
