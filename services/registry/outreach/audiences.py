"""Who a campaign is for: queries on the registry, one per campaign kind.

The programme's rules, kept simple and stated here:
- **appointment in N days**: an appointment still ``scheduled`` on the day N days from today
  (facility wall-clock dates, today in the registry's time zone).
- **dose overdue**: an appointment whose day is at least N days past (N >= 1) and whose status is
  still ``scheduled``: nobody marked it done, missed or cancelled, so the dose is due and not given.
- **certificate ready**: anyone with a dose on record; one notice per latest dose number (a later
  dose makes a new certificate, so a new notice).
Each entry carries its notice key, so a recipient who already had that notice is left out by the
database at planning, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.registry.models import Appointment, AppointmentStatus, Dose, Recipient
from services.registry.outreach.models import CampaignKind
from services.registry.outreach.notices import appointment_reminder_key, certificate_key, dose_due_key
from services.registry.outreach.templates import format_date, format_time

_CHUNK = 2_000


@dataclass(frozen=True)
class AudienceEntry:
    recipient_id: int
    nik: str  # for the time zone only; never leaves the registry
    phone: str
    notice_key: str
    parameters: list[str]
    appointment_id: int | None = None


def audience(session: Session, kind: CampaignKind, days: int | None, today: date) -> Iterator[AudienceEntry]:
    """Every entry of the audience, in recipient order, read in chunks."""
    if kind is CampaignKind.APPOINTMENT_REMINDER:
        yield from _appointments_in(session, days or 0, today)
    elif kind is CampaignKind.DOSE_DUE:
        yield from _overdue(session, max(1, days or 1), today)
    else:
        yield from _certificates(session)


def _appointments_in(session: Session, days: int, today: date) -> Iterator[AudienceEntry]:
    start = datetime.combine(today + timedelta(days=days), time())
    query = (
        select(Recipient.id, Recipient.nik, Recipient.phone, Appointment)
        .join(Appointment, Appointment.recipient_id == Recipient.id)
        .where(
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.scheduled_at >= start,
            Appointment.scheduled_at < start + timedelta(days=1),
        )
        .order_by(Recipient.id, Appointment.id)
        .execution_options(yield_per=_CHUNK)
    )
    for recipient_id, nik, phone, appointment in session.execute(query):
        yield AudienceEntry(
            recipient_id,
            nik,
            phone,
            appointment_reminder_key(appointment.id, days),
            [
                format_date(appointment.scheduled_at.date()),
                format_time(appointment.scheduled_at),
                appointment.facility_name,
            ],
            appointment.id,
        )


def _overdue(session: Session, days: int, today: date) -> Iterator[AudienceEntry]:
    before = datetime.combine(today - timedelta(days=days - 1), time())
    query = (
        select(Recipient.id, Recipient.nik, Recipient.phone, Appointment)
        .join(Appointment, Appointment.recipient_id == Recipient.id)
        .where(Appointment.status == AppointmentStatus.SCHEDULED.value, Appointment.scheduled_at < before)
        .order_by(Recipient.id, Appointment.id)
        .execution_options(yield_per=_CHUNK)
    )
    for recipient_id, nik, phone, appointment in session.execute(query):
        yield AudienceEntry(
            recipient_id,
            nik,
            phone,
            dose_due_key(appointment.id),
            [
                str(appointment.dose_number),
                format_date(appointment.scheduled_at.date()),
                appointment.facility_name,
            ],
            appointment.id,
        )


def _certificates(session: Session) -> Iterator[AudienceEntry]:
    latest = (
        select(Dose.recipient_id, func.max(Dose.dose_number).label("dose_number"))
        .group_by(Dose.recipient_id)
        .subquery()
    )
    query = (
        select(Recipient.id, Recipient.nik, Recipient.phone, latest.c.dose_number)
        .join(latest, latest.c.recipient_id == Recipient.id)
        .order_by(Recipient.id)
        .execution_options(yield_per=_CHUNK)
    )
    for recipient_id, nik, phone, dose_number in session.execute(query):
        yield AudienceEntry(recipient_id, nik, phone, certificate_key(dose_number), [str(dose_number)])
