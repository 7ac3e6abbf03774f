"""One-time codes to the number on file: the code_challenges table, and failures per number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("verification_failures") as batch:
        batch.add_column(sa.Column("number_hash", sa.String(64), nullable=True))
    op.create_index(
        op.f("ix_verification_failures_number_hash"),
        "verification_failures",
        ["number_hash", "occurred_at"],
    )
    op.create_table(
        "code_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("nik_hash", sa.String(64), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("number_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name=op.f("fk_code_challenges_recipient_id_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_challenges")),
        sa.UniqueConstraint("challenge_hash", name=op.f("uq_code_challenges_challenge_hash")),
    )
    op.create_index(op.f("ix_code_challenges_number_hash"), "code_challenges", ["number_hash", "created_at"])
    op.create_index(
        op.f("ix_code_challenges_conversation_hash"), "code_challenges", ["conversation_hash", "nik_hash"]
    )


def downgrade() -> None:
    op.drop_table("code_challenges")
    op.drop_index(op.f("ix_verification_failures_number_hash"), table_name="verification_failures")
    with op.batch_alter_table("verification_failures") as batch:
        batch.drop_column("number_hash")
