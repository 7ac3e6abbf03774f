"""Outreach tables: campaigns and the notices they plan. The schema is owned by migration 0004.

A notice is one template message to one recipient, under a key (``notice_key``) that is unique per
recipient: the database, not the code, is what keeps a recipient from getting the same notice twice
across reruns, crashes and several workers. Its life: ``queued`` (planned; ``not_before`` defers it
out of quiet hours) → ``sending`` (claimed by one worker until ``lease_until``) → ``sent``,
``skipped`` or ``failed`` with a ``reason``. Nothing personal is stored here: the number a notice
went to is kept as the registry's keyed hash of its conversation id, and Meta's message id (which
encodes the number) as the keyed message key the WhatsApp channel uses for incoming ids.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models import UtcDateTime
from services.registry.models import Base


class CampaignKind(str, Enum):
    APPOINTMENT_REMINDER = "appointment_reminder"
    DOSE_DUE = "dose_due"
    CERTIFICATE_READY = "certificate_ready"


# Notices that belong to no campaign: the outcome of a correction request (queued by the staff route).
CORRECTION_OUTCOME = "correction_outcome"


class CampaignStatus(str, Enum):
    DRAFT = "draft"  # created; a dry run may look at it
    RUNNING = "running"  # planned; workers send its notices
    PAUSED = "paused"  # workers leave its notices alone until it is resumed
    DONE = "done"  # nothing left queued or in flight


class NoticeStatus(str, Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class SkipReason(str, Enum):
    OPTED_OUT = "opted_out"
    NO_WHATSAPP_NUMBER = "no_whatsapp_number"
    ALREADY_NOTIFIED = "already_notified"  # counted on the campaign: no row of its own (the key exists)


class Campaign(Base):
    """What staff created: an audience kind with its days, a template; and what planning found."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("kind IN ('appointment_reminder', 'dose_due', 'certificate_ready')", name="kind"),
        CheckConstraint("status IN ('draft', 'running', 'paused', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    days: Mapped[int | None] = mapped_column(SmallInteger)
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.DRAFT.value)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Planning's findings: the audience when it ran, and how many of them already had this notice.
    due: Mapped[int] = mapped_column(Integer, default=0)
    already_notified: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """One template message to one recipient; unique per (recipient, notice key)."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("recipient_id", "notice_key"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'skipped', 'failed')", name="status"),
        Index(None, "campaign_id", "status"),
        Index(None, "status", "zone", "not_before"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)  # opaque, in the button payloads
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    notice_key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(30))
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(10))
    parameters: Mapped[list[Any]] = mapped_column(JSON)
    zone: Mapped[str] = mapped_column(String(4))  # WIB / WITA / WIT, from the NIK's province
    status: Mapped[str] = mapped_column(String(10), default=NoticeStatus.QUEUED.value)
    reason: Mapped[str | None] = mapped_column(String(40))
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    conversation_hash: Mapped[str | None] = mapped_column(String(64))
    message_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
