"""Officer console: the officer role, claims on waiting conversations, the officers' audit, canned replies.

Three ready-made replies are seeded (current contacts only: Halo Kemenkes 1500-567, emergency 119 or
the nearest IGD). Like 0001, a table that is already there is kept, not rebuilt, and the role check
of ``review_users`` is rebuilt only when it does not allow ``officer`` yet (batch mode: SQLite copies
the table). Downgrading turns officers into reviewers, the least a returning account may do.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text

from services.common.models import NAMING_CONVENTION

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('reviewer', 'admin', 'approver', 'officer')"
ROLES_BEFORE = "role IN ('reviewer', 'admin', 'approver')"
ACTIONS = "action IN ('claim', 'reply', 'requeue', 'close', 'canned_add', 'canned_edit', 'canned_delete')"
SEEDED_BY = "system"
CANNED_REPLIES = (
    (
        "Salam pembuka",
        "Halo, saya petugas TanyaVaksin dari Kementerian Kesehatan. Terima kasih sudah menunggu. "
        "Apa yang bisa saya bantu terkait vaksinasi?",
    ),
    (
        "Keadaan darurat",
        "Jika Anda atau orang di dekat Anda mengalami keluhan berat setelah vaksinasi (misalnya sesak "
        "napas, bengkak di wajah, atau pingsan), segera hubungi 119 atau datang ke IGD rumah sakit terdekat.",
    ),
    (
        "Informasi lebih lanjut",
        "Untuk pertanyaan lain, Anda juga dapat menghubungi Halo Kemenkes di 1500-567. "
        'Ketik "menu" kapan saja untuk kembali ke asisten otomatis.',
    ),
)


def _schema() -> sa.MetaData:
    """The new tables as of this revision (stored times are naive UTC: ``UtcDateTime``)."""
    schema = sa.MetaData(naming_convention=NAMING_CONVENTION)
    # Named in this metadata only so the claims' foreign key can be resolved; never created here.
    sa.Table("review_conversations", schema, Column("conversation_id", String(255), primary_key=True))
    sa.Table(
        "officer_claims",
        schema,
        Column(
            "conversation_id",
            String(255),
            ForeignKey("review_conversations.conversation_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("held_by", String(64)),
        Column("claimed_at", DateTime()),
    )
    sa.Table(
        "officer_audit",
        schema,
        Column("id", Integer(), primary_key=True),
        Column("at", DateTime(), nullable=False),
        Column("officer", String(64), nullable=False),
        Column("action", String(16), nullable=False),
        Column("conversation_id", String(255)),
        Column("text", Text()),
        Index("ix_officer_audit_conversation", "conversation_id", "id"),
        Index("ix_officer_audit_at", "at"),
        sa.CheckConstraint(ACTIONS, name="officer_audit_action"),
    )
    sa.Table(
        "canned_replies",
        schema,
        Column("id", Integer(), primary_key=True),
        Column("title", String(80), nullable=False),
        Column("text", Text(), nullable=False),
        Column("updated_by", String(64), nullable=False),
        Column("updated_at", DateTime(), nullable=False),
    )
    return schema


NEW_TABLES = ("officer_claims", "officer_audit", "canned_replies")


def _set_role_check(check: str) -> None:
    with op.batch_alter_table("review_users") as batch:
        batch.drop_constraint(op.f("ck_review_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_review_users_role"), check)


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.inspect(bind)
    existing = set(found.get_table_names())
    schema = _schema()
    for name in NEW_TABLES:
        if name not in existing:
            schema.tables[name].create(bind)
    if "canned_replies" not in existing:
        now = datetime.now(UTC).replace(tzinfo=None)
        op.bulk_insert(
            schema.tables["canned_replies"],
            [
                {"title": title, "text": text, "updated_by": SEEDED_BY, "updated_at": now}
                for title, text in CANNED_REPLIES
            ],
        )
    checks = found.get_check_constraints("review_users")
    if not any("officer" in str(check.get("sqltext")) for check in checks):
        _set_role_check(ROLES)


def downgrade() -> None:
    schema = _schema()
    for name in reversed(NEW_TABLES):
        schema.tables[name].drop(op.get_bind())
    op.execute(sa.text("UPDATE review_users SET role = 'reviewer' WHERE role = 'officer'"))
    _set_role_check(ROLES_BEFORE)
