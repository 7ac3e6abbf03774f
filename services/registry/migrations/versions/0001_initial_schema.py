"""Initial schema: recipients, doses, appointments, verification failures, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nik", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("district", sa.String(120), nullable=False),
        sa.CheckConstraint("sex IN ('L', 'P')", name=op.f("ck_recipients_sex")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipients")),
        sa.UniqueConstraint("nik", name=op.f("uq_recipients_nik")),
    )
    op.create_table(
        "doses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("dose_number", sa.SmallInteger(), nullable=False),
        sa.Column("vaccine_brand", sa.String(40), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("facility", sa.String(200), nullable=False),
        sa.Column("batch", sa.String(40), nullable=False),
        sa.CheckConstraint("dose_number >= 1", name=op.f("ck_doses_dose_number_positive")),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_doses_recipient_id_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doses")),
        sa.UniqueConstraint("recipient_id", "dose_number", name=op.f("uq_doses_recipient_id")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("dose_number", sa.SmallInteger(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.Column("facility_name", sa.String(200), nullable=False),
        sa.Column("facility_address", sa.String(300), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.CheckConstraint("dose_number >= 1", name=op.f("ck_appointments_dose_number_positive")),
        sa.CheckConstraint(
            "status IN ('scheduled', 'done', 'missed', 'cancelled')", name=op.f("ck_appointments_status")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_appointments_recipient_id_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint(
            "recipient_id", "dose_number", "scheduled_at", name=op.f("uq_appointments_recipient_id")
        ),
    )
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("nik_hash", sa.String(64), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    op.create_index(
        op.f("ix_verification_failures_nik_hash"),
        "verification_failures",
        ["nik_hash", "occurred_at"],
    )
    op.create_index(
        op.f("ix_verification_failures_conversation_hash"),
        "verification_failures",
        ["conversation_hash", "occurred_at"],
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("client_host", sa.String(64), nullable=True),
        sa.Column("nik_hash", sa.String(64), nullable=True),
        sa.Column("conversation_hash", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("verification_failures")
    op.drop_table("appointments")
    op.drop_table("doses")
    op.drop_table("recipients")
