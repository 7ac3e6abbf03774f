"""The content workflow's table: every proposed answer change, who made it and who decided, and when.

A row is never deleted or rewritten except for its decision, so the table is the history of the
answers: ``pending`` ("menunggu persetujuan") until an approver other than its author approves or
rejects it, or a newer edit of the same answer supersedes it.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models import UtcDateTime
from services.review.models import Base


class RevisionStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class ContentRevision(Base):
    __tablename__ = "review_content_revisions"
    __table_args__ = (
        Index("ix_review_content_revisions_response", "response", "id"),
        Index("ix_review_content_revisions_status", "status", "id"),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'superseded')", name="content_revision_status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response: Mapped[str] = mapped_column(String(255))  # utter_faq/<topic>
    text: Mapped[str] = mapped_column(Text)
    valid_as_of: Mapped[str] = mapped_column(String(10))  # ISO dates, as the domain files hold them
    next_review: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text)
    base_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the text the edit started from
    status: Mapped[str] = mapped_column(String(16), default=RevisionStatus.PENDING.value)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def pending(self) -> bool:
        return self.status == RevisionStatus.PENDING.value
