"""What recipients ask for by chat: opt-outs, correction requests and KIPI (side-effect) reports.

A correction is never applied directly: it waits here for an officer. At most one request per
recipient and field may be pending; a partial unique index makes the database enforce it, so two
requests sent at the same moment cannot both be stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(), nullable=True),
        sa.Column("opted_in_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("conversation_hash", name=op.f("pk_opt_outs")),
    )
    op.create_index(op.f("ix_opt_outs_opted_out_at"), "opt_outs", ["opted_out_at"])
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("current_masked", sa.String(200), nullable=False),
        sa.Column("requested_value", sa.String(300), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("field IN ('name', 'phone', 'dose')", name=op.f("ck_correction_requests_field")),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_correction_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_correction_requests_recipient_id_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_correction_requests_reference")),
    )
    op.create_index(op.f("ix_correction_requests_status"), "correction_requests", ["status", "created_at"])
    op.create_index(
        "uq_correction_requests_pending",
        "correction_requests",
        ["recipient_id", "field"],
        unique=True,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_table(
        "kipi_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("symptoms", sa.String(500), nullable=False),
        sa.Column("onset", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("triage_note", sa.String(500), nullable=True),
        sa.Column("triaged_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("triaged_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('ringan', 'sedang', 'berat')", name=op.f("ck_kipi_reports_severity")
        ),
        sa.CheckConstraint("status IN ('baru', 'ditangani', 'selesai')", name=op.f("ck_kipi_reports_status")),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_kipi_reports_recipient_id_recipients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kipi_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_kipi_reports_reference")),
    )
    op.create_index(op.f("ix_kipi_reports_status"), "kipi_reports", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("kipi_reports")
    op.drop_table("correction_requests")
    op.drop_table("opt_outs")
