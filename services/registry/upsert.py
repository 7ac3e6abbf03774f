"""Writing records by their natural keys, so that loading the same data twice changes nothing.

Keys: a recipient by NIK, a dose by (recipient, dose number), an appointment by (recipient, dose
number, date and time). Existing rows are updated only where a value differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.registry.models import Appointment, Dose, Recipient
from services.registry.records import AppointmentRecord, DoseRecord, RecipientRecord

_IN_CHUNK = 500  # keeps IN (...) lists well inside every backend's parameter limit


@dataclass
class UpsertCounts:
    recipients_added: int = 0
    recipients_updated: int = 0
    doses_added: int = 0
    doses_updated: int = 0
    appointments_added: int = 0
    appointments_updated: int = 0
    appointments_removed: int = 0

    @property
    def changed(self) -> int:
        return sum(getattr(self, item.name) for item in fields(self))

    def summary(self) -> str:
        return (
            f"recipients {self.recipients_added} added, {self.recipients_updated} updated; "
            f"doses {self.doses_added} added, {self.doses_updated} updated; "
            f"appointments {self.appointments_added} added, {self.appointments_updated} updated, "
            f"{self.appointments_removed} removed"
        )


def existing_recipients(session: Session, niks: Iterable[str]) -> dict[str, Recipient]:
    """Recipients already in the registry, by NIK."""
    wanted = sorted(set(niks))
    found: dict[str, Recipient] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        query = (
            select(Recipient)
            .where(Recipient.nik.in_(chunk))
            .options(selectinload(Recipient.doses), selectinload(Recipient.appointments))
        )
        for recipient in session.scalars(query):
            found[recipient.nik] = recipient
    return found


def upsert_recipients(
    session: Session, records: Sequence[RecipientRecord], replace_appointments: bool = False
) -> UpsertCounts:
    """Insert or update ``records`` in the caller's transaction.

    ``replace_appointments`` also removes a recipient's appointments that ``records`` no longer
    lists (the demo seeder uses it so that re-seeding on another day does not pile up slots).
    """
    counts = UpsertCounts()
    known = existing_recipients(session, (record.nik for record in records))
    for record in records:
        recipient = known.get(record.nik)
        if recipient is None:
            recipient = Recipient(nik=record.nik)
            session.add(recipient)
            known[record.nik] = recipient
            counts.recipients_added += 1
            _assign(recipient, _person_values(record))
        elif _assign(recipient, _person_values(record)):
            counts.recipients_updated += 1
        _upsert_doses(recipient, record.doses, counts)
        _upsert_appointments(recipient, record.appointments, counts, replace_appointments)
    session.flush()
    return counts


def _person_values(record: RecipientRecord) -> dict[str, object]:
    return {
        "full_name": record.full_name,
        "birth_date": record.birth_date,
        "sex": record.sex.value,
        "phone": record.phone,
        "district": record.district,
    }


def _dose_values(record: DoseRecord) -> dict[str, object]:
    return {
        "vaccine_brand": record.vaccine_brand,
        "given_on": record.given_on,
        "facility": record.facility,
        "batch": record.batch,
    }


def _appointment_values(record: AppointmentRecord) -> dict[str, object]:
    return {
        "facility_name": record.facility_name,
        "facility_address": record.facility_address,
        "status": record.status.value,
    }


def _assign(row: object, values: dict[str, object]) -> bool:
    """Set the values that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name, None) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert_doses(recipient: Recipient, records: Iterable[DoseRecord], counts: UpsertCounts) -> None:
    by_number = {dose.dose_number: dose for dose in recipient.doses}
    for record in records:
        dose = by_number.get(record.dose_number)
        if dose is None:
            dose = Dose(dose_number=record.dose_number, **_dose_values(record))
            recipient.doses.append(dose)
            by_number[record.dose_number] = dose
            counts.doses_added += 1
        elif _assign(dose, _dose_values(record)):
            counts.doses_updated += 1


def _upsert_appointments(
    recipient: Recipient,
    records: Iterable[AppointmentRecord],
    counts: UpsertCounts,
    replace: bool,
) -> None:
    by_key = {(item.dose_number, item.scheduled_at): item for item in recipient.appointments}
    wanted = set()
    for record in records:
        key = (record.dose_number, record.scheduled_at)
        wanted.add(key)
        appointment = by_key.get(key)
        if appointment is None:
            appointment = Appointment(
                dose_number=record.dose_number,
                scheduled_at=record.scheduled_at,
                **_appointment_values(record),
            )
            recipient.appointments.append(appointment)
            by_key[key] = appointment
            counts.appointments_added += 1
        elif _assign(appointment, _appointment_values(record)):
            counts.appointments_updated += 1
    if replace:
        for key, appointment in by_key.items():
            if key not in wanted:
                recipient.appointments.remove(appointment)
                counts.appointments_removed += 1
