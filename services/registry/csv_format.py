"""The registry CSV layout: one row per dose or appointment, with the person's details on each row.

A long layout keeps every row self-contained, so that a rejected row can be fixed on its own line.
Columns are documented in this package's README.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

from services.registry.records import RecipientRecord

PERSON_COLUMNS = ("nik", "full_name", "birth_date", "sex", "phone", "district")
RECORD_COLUMNS = (
    "record",
    "dose_number",
    "vaccine_brand",
    "date",
    "time",
    "facility",
    "facility_address",
    "batch",
    "status",
)
COLUMNS = PERSON_COLUMNS + RECORD_COLUMNS
DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M"


class RecordKind(str, Enum):
    RECIPIENT = "recipient"  # the person only
    DOSE = "dose"
    APPOINTMENT = "appointment"


def records_to_rows(records: Iterable[RecipientRecord]) -> list[dict[str, str]]:
    """CSV rows for ``records`` (the reverse of the import)."""
    rows = []
    for record in records:
        person = {
            "nik": record.nik,
            "full_name": record.full_name,
            "birth_date": record.birth_date.strftime(DATE_FORMAT),
            "sex": record.sex.value,
            "phone": record.phone,
            "district": record.district,
        }
        blank = dict.fromkeys(RECORD_COLUMNS, "")
        if not record.doses and not record.appointments:
            rows.append({**person, **blank, "record": RecordKind.RECIPIENT.value})
        for dose in record.doses:
            rows.append(
                {
                    **person,
                    **blank,
                    "record": RecordKind.DOSE.value,
                    "dose_number": str(dose.dose_number),
                    "vaccine_brand": dose.vaccine_brand,
                    "date": dose.given_on.strftime(DATE_FORMAT),
                    "facility": dose.facility,
                    "batch": dose.batch,
                }
            )
        for appointment in record.appointments:
            rows.append(
                {
                    **person,
                    **blank,
                    "record": RecordKind.APPOINTMENT.value,
                    "dose_number": str(appointment.dose_number),
                    "date": appointment.scheduled_at.strftime(DATE_FORMAT),
                    "time": appointment.scheduled_at.strftime(TIME_FORMAT),
                    "facility": appointment.facility_name,
                    "facility_address": appointment.facility_address,
                    "status": appointment.status.value,
                }
            )
    return rows


def write_csv(records: Iterable[RecipientRecord], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(records_to_rows(records))
