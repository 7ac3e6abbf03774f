"""Registry tables (SQLAlchemy 2 ORM). The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.models import NAMING_CONVENTION, UtcDateTime


class AppointmentStatus(str, Enum):
    SCHEDULED = "scheduled"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Recipient(Base):
    """A person in the registry. The NIK is stored here and nowhere else."""

    __tablename__ = "recipients"
    __table_args__ = (CheckConstraint("sex IN ('L', 'P')", name="sex"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    district: Mapped[str] = mapped_column(String(120))

    doses: Mapped[list[Dose]] = relationship(
        back_populates="recipient", cascade="all, delete-orphan", order_by="Dose.dose_number"
    )
    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="recipient", cascade="all, delete-orphan", order_by="Appointment.scheduled_at"
    )


class Dose(Base):
    """A dose given. One row per dose number per person."""

    __tablename__ = "doses"
    __table_args__ = (
        UniqueConstraint("recipient_id", "dose_number"),
        CheckConstraint("dose_number >= 1", name="dose_number_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    dose_number: Mapped[int] = mapped_column(SmallInteger)
    vaccine_brand: Mapped[str] = mapped_column(String(40))
    given_on: Mapped[date] = mapped_column(Date)
    facility: Mapped[str] = mapped_column(String(200))
    batch: Mapped[str] = mapped_column(String(40))

    recipient: Mapped[Recipient] = relationship(back_populates="doses")


class Appointment(Base):
    """A booked slot. ``scheduled_at`` is the wall-clock time at the facility, as on the card."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("recipient_id", "dose_number", "scheduled_at"),
        CheckConstraint("dose_number >= 1", name="dose_number_positive"),
        CheckConstraint("status IN ('scheduled', 'done', 'missed', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    dose_number: Mapped[int] = mapped_column(SmallInteger)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime)
    facility_name: Mapped[str] = mapped_column(String(200))
    facility_address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10))

    recipient: Mapped[Recipient] = relationship(back_populates="appointments")


class VerificationFailure(Base):
    """A failed check (NIK + birth date, or a one-time code); the lockout counts these in the database.

    ``number_hash`` (the number on file) is set only for a wrong code: a wrong birth date must not
    tell anyone which NIKs share a phone number.
    """

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index(None, "nik_hash", "occurred_at"),
        Index(None, "conversation_hash", "occurred_at"),
        Index(None, "number_hash", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    nik_hash: Mapped[str] = mapped_column(String(64))
    conversation_hash: Mapped[str] = mapped_column(String(64))
    number_hash: Mapped[str | None] = mapped_column(String(64))


class CodeChallenge(Base):
    """A one-time code sent to the number on file, waiting to be typed in the same conversation.

    Neither the code nor the challenge id is stored: only keyed hashes of them, so a copy of the
    database does not let anyone finish someone else's check.
    """

    __tablename__ = "code_challenges"
    __table_args__ = (
        Index(None, "number_hash", "created_at"),
        Index(None, "conversation_hash", "nik_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    nik_hash: Mapped[str] = mapped_column(String(64))
    conversation_hash: Mapped[str] = mapped_column(String(64))
    number_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # used, replaced or out of attempts


class AuditEntry(Base):
    """One lookup attempt: who asked, about which (hashed) NIK, and what they got. Never the NIK."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    caller: Mapped[str] = mapped_column(String(64))
    client_host: Mapped[str | None] = mapped_column(String(64))
    nik_hash: Mapped[str | None] = mapped_column(String(64))
    conversation_hash: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))


class OptOut(Base):
    """Whether the number behind a conversation wants outreach messages (Meta requires both records).

    Keyed by the registry's keyed hash of the sender id, never the number. ``opted_out_at`` is set
    while the person is opted out and cleared when they opt in again; the audit log keeps the history.
    """

    __tablename__ = "opt_outs"
    __table_args__ = (Index(None, "opted_out_at"),)

    conversation_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    opted_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(20))


class CorrectionField(str, Enum):
    NAME = "name"
    PHONE = "phone"
    DOSE = "dose"


class CorrectionStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class KipiSeverity(str, Enum):
    RINGAN = "ringan"
    SEDANG = "sedang"
    BERAT = "berat"


class KipiStatus(str, Enum):
    BARU = "baru"
    DITANGANI = "ditangani"
    SELESAI = "selesai"


class CorrectionRequest(Base):
    """A recipient's request to fix their record, waiting for an officer: never applied directly.

    ``current_masked`` is the value on file when the request was made, masked; ``requested_value``
    is shown to the officer as sent (they must read it to decide).
    """

    __tablename__ = "correction_requests"
    __table_args__ = (
        CheckConstraint("field IN ('name', 'phone', 'dose')", name="field"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        Index(None, "status", "created_at"),
        # One pending request per recipient and field, held by the database (two at once cannot both land).
        Index(
            "uq_correction_requests_pending",
            "recipient_id",
            "field",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))
    current_masked: Mapped[str] = mapped_column(String(200))
    requested_value: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=CorrectionStatus.PENDING.value)
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # outcome notice queued
    conversation_hash: Mapped[str] = mapped_column(String(64))


class KipiReport(Base):
    """A side effect after immunisation (KIPI) reported by chat; anonymous reports have no recipient."""

    __tablename__ = "kipi_reports"
    __table_args__ = (
        CheckConstraint("severity IN ('ringan', 'sedang', 'berat')", name="severity"),
        CheckConstraint("status IN ('baru', 'ditangani', 'selesai')", name="status"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id", ondelete="SET NULL"))
    conversation_hash: Mapped[str] = mapped_column(String(64))
    symptoms: Mapped[str] = mapped_column(String(500))
    onset: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=KipiStatus.BARU.value)
    triage_note: Mapped[str | None] = mapped_column(String(500))
    triaged_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
