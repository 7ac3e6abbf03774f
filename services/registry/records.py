"""Registry data as plain values: what the CSV import and the demo seeder hand to the upsert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from core.nik import Sex
from services.registry.models import AppointmentStatus


@dataclass(frozen=True)
class DoseRecord:
    dose_number: int
    vaccine_brand: str
    given_on: date
    facility: str
    batch: str


@dataclass(frozen=True)
class AppointmentRecord:
    dose_number: int
    scheduled_at: datetime  # wall-clock time at the facility, no time zone
    facility_name: str
    facility_address: str
    status: AppointmentStatus


@dataclass
class RecipientRecord:
    nik: str
    full_name: str
    birth_date: date
    sex: Sex
    phone: str
    district: str
    doses: list[DoseRecord] = field(default_factory=list)
    appointments: list[AppointmentRecord] = field(default_factory=list)
