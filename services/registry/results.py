"""What a lookup or a code check comes to, and the context one attempt carries through them.

Shared by services/registry/lookup.py (NIK + birth date) and services/registry/challenges.py (the
one-time code), so that both answer alike and audit alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry.audit import Outcome, record_lookup
from services.registry.lockout import Lock, LockoutPolicy, Subjects
from services.registry.masking import mask_birth_date, mask_name, mask_phone
from services.registry.models import Appointment, AppointmentStatus, Recipient
from services.registry.records import AppointmentRecord, DoseRecord
from services.registry.settings import RegistrySettings


@dataclass(frozen=True)
class OnFile:
    """The record's personal data as the person may see it: masked, except the district."""

    name_masked: str
    phone_masked: str
    birth_date_masked: str
    district: str


@dataclass(frozen=True)
class Found:
    name_masked: str
    doses: list[DoseRecord]
    next_appointment: AppointmentRecord | None
    recipient_id: int  # for the record_token (services/registry/record_token.py); never shown
    on_file: OnFile


@dataclass(frozen=True)
class NotFound:
    whatsapp_only: bool = False  # a test channel without personal lookups: the same for every NIK


@dataclass(frozen=True)
class Locked:
    lock: Lock


@dataclass(frozen=True)
class CodeSent:
    """The code went to the number on file; ``challenge_id`` is the caller's handle, shown to nobody."""

    challenge_id: str
    phone_masked: str
    expires_in_seconds: int


@dataclass(frozen=True)
class CodeUnavailable:
    """The code could not be sent (WhatsApp not configured or unreachable)."""


@dataclass(frozen=True)
class WrongCode:
    attempts_left: int


@dataclass(frozen=True)
class CodeEnded:
    """Start again: the code expired (or is unknown here), or it was wrong too often."""

    too_many_attempts: bool = False


def lockout_policy(settings: RegistrySettings) -> LockoutPolicy:
    return LockoutPolicy(
        max_failures=settings.lockout_max_failures,
        window=timedelta(seconds=settings.lockout_window_seconds),
        duration=timedelta(seconds=settings.lockout_seconds),
    )


@dataclass
class Attempt:
    """One request's context: its session, time, caller and the hashes its audit rows carry."""

    session: Session
    settings: RegistrySettings
    now: datetime
    caller: str
    client_host: str | None
    subjects: Subjects

    @property
    def key(self) -> str:
        return self.settings.audit_hash_key.get_secret_value()

    def audit(self, outcome: Outcome) -> None:
        record_lookup(
            self.session,
            at=self.now,
            caller=self.caller,
            client_host=self.client_host,
            outcome=outcome,
            nik_hash=self.subjects.nik_hash or None,
            conversation_hash=self.subjects.conversation_hash,
        )

    def finish(self, outcome: Outcome) -> None:
        self.audit(outcome)
        self.session.commit()


def describe(session: Session, settings: RegistrySettings, recipient: Recipient, now: datetime) -> Found:
    """What the person gets: masked name, doses, next appointment."""
    return Found(
        name_masked=mask_name(recipient.full_name),
        doses=[
            DoseRecord(dose.dose_number, dose.vaccine_brand, dose.given_on, dose.facility, dose.batch)
            for dose in recipient.doses
        ],
        next_appointment=_next_appointment(
            session, recipient, now.astimezone(ZoneInfo(settings.timezone)).date()
        ),
        recipient_id=recipient.id,
        on_file=OnFile(
            name_masked=mask_name(recipient.full_name),
            phone_masked=mask_phone(recipient.phone),
            birth_date_masked=mask_birth_date(recipient.birth_date),
            district=recipient.district,
        ),
    )


def _next_appointment(session: Session, recipient: Recipient, today: date) -> AppointmentRecord | None:
    """The earliest appointment still scheduled from today on (earlier today still counts)."""
    appointment = session.scalar(
        select(Appointment)
        .where(
            Appointment.recipient_id == recipient.id,
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.scheduled_at >= datetime.combine(today, datetime.min.time()),
        )
        .order_by(Appointment.scheduled_at)
        .limit(1)
    )
    if appointment is None:
        return None
    return AppointmentRecord(
        appointment.dose_number,
        appointment.scheduled_at,
        appointment.facility_name,
        appointment.facility_address,
        AppointmentStatus(appointment.status),
    )
