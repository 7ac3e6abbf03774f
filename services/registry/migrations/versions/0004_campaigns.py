"""Outreach: campaigns of WhatsApp template messages and the notices they plan.

``UNIQUE(recipient_id, notice_key)`` is the whole idempotency of outreach: planning inserts with
ON CONFLICT DO NOTHING, so a rerun, a crash or a second worker cannot make a second notice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("days", sa.SmallInteger(), nullable=True),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("already_notified", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('appointment_reminder', 'dose_due', 'certificate_ready')",
            name=op.f("ck_campaigns_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'paused', 'done')", name=op.f("ck_campaigns_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("notice_key", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("zone", sa.String(4), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("conversation_hash", sa.String(64), nullable=True),
        sa.Column("message_key", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'skipped', 'failed')", name=op.f("ck_notices_status")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_notices_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_notices_recipient_id_recipients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_notices_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("reference", name=op.f("uq_notices_reference")),
        sa.UniqueConstraint("recipient_id", "notice_key", name=op.f("uq_notices_recipient_id")),
    )
    op.create_index(op.f("ix_notices_campaign_id"), "notices", ["campaign_id", "status"])
    op.create_index(op.f("ix_notices_status"), "notices", ["status", "zone", "not_before"])


def downgrade() -> None:
    op.drop_table("notices")
    op.drop_table("campaigns")
