"""Looking a person up by NIK + birth date without letting anyone learn who is in the registry.

An unknown NIK and a wrong birth date take the same path: the NIK is hashed, the recipient query
runs, a birth date is compared in constant time (a fixed dummy one when there is no recipient),
and a failure is recorded. Both then get the same answer.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry.audit import Outcome, record_lookup
from services.registry.hashing import conversation_hash, nik_hash
from services.registry.lockout import Lock, LockoutPolicy, current_lock, record_failure, serialise_attempts
from services.registry.masking import mask_name
from services.registry.models import Appointment, AppointmentStatus, Recipient
from services.registry.records import AppointmentRecord, DoseRecord
from services.registry.settings import RegistrySettings

_DUMMY_BIRTH_DATE = date(1970, 1, 1)


@dataclass(frozen=True)
class LookupQuery:
    nik: str
    birth_date: date
    conversation_id: str


@dataclass(frozen=True)
class Found:
    name_masked: str
    doses: list[DoseRecord]
    next_appointment: AppointmentRecord | None


@dataclass(frozen=True)
class NotFound:
    pass


@dataclass(frozen=True)
class Locked:
    lock: Lock


LookupResult = Found | NotFound | Locked


def lockout_policy(settings: RegistrySettings) -> LockoutPolicy:
    return LockoutPolicy(
        max_failures=settings.lockout_max_failures,
        window=timedelta(seconds=settings.lockout_window_seconds),
        duration=timedelta(seconds=settings.lockout_seconds),
    )


def look_up(
    session: Session,
    settings: RegistrySettings,
    query: LookupQuery,
    *,
    now: datetime,
    caller: str,
    client_host: str | None,
) -> LookupResult:
    """Check the lock, verify, record the outcome and commit; one transaction per attempt."""
    key = settings.audit_hash_key.get_secret_value()
    nik_digest = nik_hash(key, query.nik)
    conversation_digest = conversation_hash(key, query.conversation_id)
    policy = lockout_policy(settings)

    def audit(outcome: Outcome) -> None:
        record_lookup(
            session,
            at=now,
            caller=caller,
            client_host=client_host,
            outcome=outcome,
            nik_hash=nik_digest,
            conversation_hash=conversation_digest,
        )

    serialise_attempts(session, nik_digest, conversation_digest)
    lock = current_lock(session, policy, now, nik_digest, conversation_digest)
    if lock is not None:
        audit(Outcome.LOCKED)
        session.commit()
        return Locked(lock)

    recipient = session.scalar(select(Recipient).where(Recipient.nik == query.nik))
    expected = recipient.birth_date if recipient is not None else _DUMMY_BIRTH_DATE
    birth_date_matches = hmac.compare_digest(expected.isoformat(), query.birth_date.isoformat())
    if recipient is None or not birth_date_matches:
        record_failure(session, policy, now, nik_digest, conversation_digest)
        audit(Outcome.NOT_FOUND)
        session.commit()
        return NotFound()

    found = Found(
        name_masked=mask_name(recipient.full_name),
        doses=[
            DoseRecord(dose.dose_number, dose.vaccine_brand, dose.given_on, dose.facility, dose.batch)
            for dose in recipient.doses
        ],
        next_appointment=_next_appointment(
            session, recipient, now.astimezone(ZoneInfo(settings.timezone)).date()
        ),
    )
    audit(Outcome.FOUND)
    session.commit()
    return found


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
