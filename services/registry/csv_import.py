"""CSV import for real loads: check every row, then write all of them in one transaction or none.

Reasons name the column and the rule, never the value: the output ends up in terminals and CI logs,
and the values are NIKs and birth dates.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.nik import NikRejection, Sex, check_nik_matches, validate_nik
from services.registry.brands import VACCINE_BRANDS, canonical_brand
from services.registry.csv_format import (
    COLUMNS,
    DATE_FORMAT,
    TIME_FORMAT,
    RecordKind,
)
from services.registry.models import AppointmentStatus
from services.registry.phone import is_e164
from services.registry.records import AppointmentRecord, DoseRecord, RecipientRecord
from services.registry.upsert import UpsertCounts, existing_recipients, upsert_recipients

HEADER_LINE = 1
OLDEST_BIRTH_DATE = date(1900, 1, 1)
_Choice = TypeVar("_Choice", RecordKind, Sex, AppointmentStatus)
_LIMITS = {"full_name": 200, "district": 120, "facility": 200, "facility_address": 300, "batch": 40}


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass
class ImportResult:
    rows: int
    rejected: list[RejectedRow] = field(default_factory=list)
    counts: UpsertCounts = field(default_factory=UpsertCounts)

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass(frozen=True)
class _Person:
    nik: str
    full_name: str
    birth_date: date
    sex: Sex
    phone: str
    district: str


@dataclass(frozen=True)
class _Row:
    line: int
    person: _Person
    dose: DoseRecord | None = None
    appointment: AppointmentRecord | None = None


def import_csv(session_factory: sessionmaker[Session], path: Path, today: date) -> ImportResult:
    """Import ``path``; on any rejected row nothing is written and every rejection is returned."""
    rows, rejected = read_rows(path, today)
    result = ImportResult(rows=len(rows) + len(rejected), rejected=rejected)
    with session_factory() as session:  # closing without commit rolls everything back
        result.rejected.extend(_check_across_rows(session, rows))
        if result.rejected:
            result.rejected.sort(key=lambda row: row.line)
            return result
        result.counts = upsert_recipients(session, _to_records(rows))
        session.commit()
    return result


def read_rows(path: Path, today: date) -> tuple[list[_Row], list[RejectedRow]]:
    """Rows that pass the checks a single row allows, and the rows that do not."""
    good: list[_Row] = []
    rejected: list[RejectedRow] = []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [name for name in COLUMNS if name not in header]
        unknown = [name for name in header if name not in COLUMNS]
        if missing or unknown:
            reasons = [f"missing column {name}" for name in missing]
            reasons += [f"unknown column {name}" for name in unknown]
            return [], [RejectedRow(HEADER_LINE, tuple(reasons))]
        reader.fieldnames = header
        for raw in reader:
            line = reader.line_num
            if None in raw:
                rejected.append(RejectedRow(line, ("more fields than columns",)))
                continue
            parsed = _parse_row(line, {name: (value or "").strip() for name, value in raw.items()}, today)
            if isinstance(parsed, RejectedRow):
                rejected.append(parsed)
            else:
                good.append(parsed)
    return good, rejected


def _parse_row(line: int, raw: dict[str, str], today: date) -> _Row | RejectedRow:
    reasons: list[str] = []
    person = _parse_person(raw, today, reasons)
    kind = _choice(raw, "record", RecordKind, reasons)
    dose = appointment = None
    if kind is RecordKind.DOSE:
        dose = _parse_dose(raw, person, today, reasons)
    elif kind is RecordKind.APPOINTMENT:
        appointment = _parse_appointment(raw, reasons)
    if reasons or person is None:
        return RejectedRow(line, tuple(reasons))
    return _Row(line, person, dose, appointment)


def _parse_person(raw: dict[str, str], today: date, reasons: list[str]) -> _Person | None:
    birth_date = _date(raw, "birth_date", reasons)
    if birth_date is not None and not OLDEST_BIRTH_DATE <= birth_date <= today:
        reasons.append("birth_date: outside 1900-01-01 .. today")
        birth_date = None
    sex = _choice(raw, "sex", Sex, reasons, expected="L (laki-laki) or P (perempuan)")
    nik = _nik(raw["nik"], birth_date, sex, reasons)
    if not is_e164(raw["phone"]):
        reasons.append("phone: expected E.164, e.g. +6281234567890")
    full_name = _text(raw, "full_name", reasons)
    district = _text(raw, "district", reasons)
    if reasons or nik is None or birth_date is None or sex is None:
        return None
    return _Person(nik, full_name, birth_date, sex, raw["phone"], district)


def _nik(value: str, birth_date: date | None, sex: Sex | None, reasons: list[str]) -> str | None:
    checked = validate_nik(value)
    if isinstance(checked, NikRejection):
        reasons.append(f"nik: {checked.detail}")
        return None
    if birth_date is not None:
        mismatch = check_nik_matches(checked, birth_date, sex)
        if mismatch is not None:
            reasons.append(f"nik: {mismatch.detail}")
            return None
    return checked.digits


def _parse_dose(
    raw: dict[str, str], person: _Person | None, today: date, reasons: list[str]
) -> DoseRecord | None:
    number = _dose_number(raw, reasons)
    brand = canonical_brand(raw["vaccine_brand"])
    if brand is None:
        reasons.append(f"vaccine_brand: not a known brand ({', '.join(VACCINE_BRANDS)})")
    given_on = _date(raw, "date", reasons)
    if given_on is not None and given_on > today:
        reasons.append("date: a dose cannot be given in the future")
    elif given_on is not None and person is not None and given_on < person.birth_date:
        reasons.append("date: before the birth date")
    facility = _text(raw, "facility", reasons)
    batch = _text(raw, "batch", reasons)
    if number is None or brand is None or given_on is None:
        return None
    return DoseRecord(number, brand, given_on, facility, batch)


def _parse_appointment(raw: dict[str, str], reasons: list[str]) -> AppointmentRecord | None:
    number = _dose_number(raw, reasons)
    day = _date(raw, "date", reasons)
    at = _time(raw, "time", reasons)
    facility = _text(raw, "facility", reasons)
    address = _text(raw, "facility_address", reasons)
    status = _choice(raw, "status", AppointmentStatus, reasons)
    if number is None or day is None or at is None or status is None:
        return None
    return AppointmentRecord(number, datetime.combine(day, at), facility, address, status)


def _check_across_rows(session: Session, rows: list[_Row]) -> list[RejectedRow]:
    """Rules that need the other rows or the registry: one person per NIK, no duplicates, dose order."""
    problems: dict[int, list[str]] = defaultdict(list)
    first_line: dict[str, _Row] = {}
    dose_lines: dict[tuple[str, int], int] = {}
    appointment_lines: dict[tuple[str, int, datetime], int] = {}
    dose_dates: dict[str, dict[int, date]] = defaultdict(dict)

    stored = existing_recipients(session, (row.person.nik for row in rows))
    for nik, recipient in stored.items():
        dose_dates[nik] = {dose.dose_number: dose.given_on for dose in recipient.doses}

    for row in rows:
        nik = row.person.nik
        first = first_line.setdefault(nik, row)
        if first.person != row.person:
            problems[row.line].append(f"recipient details differ from line {first.line} (same NIK)")
        if row.dose is not None:
            key = (nik, row.dose.dose_number)
            if key in dose_lines:
                problems[row.line].append(f"dose {row.dose.dose_number} is also on line {dose_lines[key]}")
            dose_lines.setdefault(key, row.line)
            dose_dates[nik][row.dose.dose_number] = row.dose.given_on
        if row.appointment is not None:
            slot = (nik, row.appointment.dose_number, row.appointment.scheduled_at)
            if slot in appointment_lines:
                problems[row.line].append(f"the same appointment is also on line {appointment_lines[slot]}")
            appointment_lines.setdefault(slot, row.line)

    for row in rows:
        given = dose_dates[row.person.nik]
        if row.dose is not None:
            number = row.dose.dose_number
            if number > 1 and number - 1 not in given:
                problems[row.line].append(
                    f"dose {number} needs dose {number - 1} first (not in file or registry)"
                )
            elif number > 1 and row.dose.given_on < given[number - 1]:
                problems[row.line].append(f"dose {number} is dated before dose {number - 1}")
        if row.appointment is not None and row.appointment.status is AppointmentStatus.SCHEDULED:
            number = row.appointment.dose_number
            if number in given:
                problems[row.line].append(f"appointment scheduled for dose {number}, which was already given")
            elif number > 1 and number - 1 not in given:
                problems[row.line].append(
                    f"appointment for dose {number} needs dose {number - 1} first (not in file or registry)"
                )
    return [RejectedRow(line, tuple(reasons)) for line, reasons in problems.items() if reasons]


def _to_records(rows: list[_Row]) -> list[RecipientRecord]:
    records: dict[str, RecipientRecord] = {}
    for row in rows:
        person = row.person
        record = records.setdefault(
            person.nik,
            RecipientRecord(
                person.nik, person.full_name, person.birth_date, person.sex, person.phone, person.district
            ),
        )
        if row.dose is not None:
            record.doses.append(row.dose)
        if row.appointment is not None:
            record.appointments.append(row.appointment)
    return list(records.values())


def _text(raw: dict[str, str], column: str, reasons: list[str]) -> str:
    value = " ".join(raw[column].split())
    if not value:
        reasons.append(f"{column}: required")
    elif len(value) > _LIMITS[column]:
        reasons.append(f"{column}: longer than {_LIMITS[column]} characters")
    return value


def _date(raw: dict[str, str], column: str, reasons: list[str]) -> date | None:
    try:
        return datetime.strptime(raw[column], DATE_FORMAT).date()
    except ValueError:
        reasons.append(f"{column}: expected a real date as YYYY-MM-DD")
        return None


def _time(raw: dict[str, str], column: str, reasons: list[str]) -> time | None:
    try:
        return datetime.strptime(raw[column], TIME_FORMAT).time()
    except ValueError:
        reasons.append(f"{column}: expected a time as HH:MM")
        return None


def _dose_number(raw: dict[str, str], reasons: list[str]) -> int | None:
    value = raw["dose_number"]
    if value.isascii() and value.isdigit() and 1 <= int(value) <= 20:
        return int(value)
    reasons.append("dose_number: expected a whole number from 1 to 20")
    return None


def _choice(
    raw: dict[str, str], column: str, kind: type[_Choice], reasons: list[str], expected: str | None = None
) -> _Choice | None:
    value = raw[column].lower() if kind is not Sex else raw[column].upper()
    for member in kind:
        if member.value == value:
            return member
    reasons.append(f"{column}: expected {expected or ', '.join(member.value for member in kind)}")
    return None
