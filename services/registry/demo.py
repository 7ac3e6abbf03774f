"""A demo registry of made-up people, so that the assistant can be tried without real data.

Everything comes from a fixed random seed; only the upcoming appointments move with ``today`` so
that they stay upcoming. To keep clear of real people, every demo NIK has a serial of 9001 or
more (serials count people born on the same day in the same district, so real ones stay small),
and every phone number uses the unallocated mobile prefix 0810.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from core.nik import Sex, build_nik
from services.registry.models import AppointmentStatus
from services.registry.records import AppointmentRecord, DoseRecord, RecipientRecord
from services.registry.upsert import UpsertCounts, upsert_recipients

DEMO_SEED = 20210113  # the day Indonesia's vaccination programme started
RANDOM_RECIPIENTS = 40


@dataclass(frozen=True)
class Area:
    region_code: str  # province + regency + district, the first six NIK digits
    district: str
    facility: str
    address: str


AREAS = (
    Area(
        "317405",
        "Kebayoran Lama, Jakarta Selatan",
        "Puskesmas Kecamatan Kebayoran Lama",
        "Jl. Ciledug Raya No. 17, Cipulir, Kebayoran Lama, Jakarta Selatan 12230",
    ),
    Area(
        "317401",
        "Tebet, Jakarta Selatan",
        "Puskesmas Kecamatan Tebet",
        "Jl. Tebet Barat Dalam Raya No. 54, Tebet, Jakarta Selatan 12810",
    ),
    Area(
        "327301",
        "Sukasari, Kota Bandung",
        "Puskesmas Sarijadi",
        "Jl. Sarimanah Raya No. 12, Sarijadi, Sukasari, Kota Bandung 40151",
    ),
    Area(
        "357803",
        "Tegalsari, Kota Surabaya",
        "Puskesmas Kedungdoro",
        "Jl. Kedungdoro No. 123, Tegalsari, Kota Surabaya 60261",
    ),
    Area(
        "347101",
        "Mantrijeron, Kota Yogyakarta",
        "Puskesmas Mantrijeron",
        "Jl. D.I. Panjaitan No. 82, Mantrijeron, Kota Yogyakarta 55143",
    ),
    Area(
        "127101",
        "Medan Kota, Kota Medan",
        "Puskesmas Teladan",
        "Jl. Sisingamangaraja No. 65, Medan Kota, Kota Medan 20217",
    ),
    Area(
        "737101",
        "Mariso, Kota Makassar",
        "Puskesmas Mariso",
        "Jl. Rajawali No. 21, Mariso, Kota Makassar 90121",
    ),
    Area(
        "517101",
        "Denpasar Selatan, Kota Denpasar",
        "Puskesmas I Denpasar Selatan",
        "Jl. Gurita No. 8, Sesetan, Denpasar Selatan, Kota Denpasar 80223",
    ),
)

MALE_NAMES = (
    "Budi", "Agus", "Andi", "Dedi", "Eko", "Hendra", "Joko", "Rizky", "Fajar", "Yusuf",
    "Wahyu", "Ahmad", "Bambang", "Slamet", "Teguh", "Dimas", "Arif", "Gilang", "Rudi", "Hadi",
)  # fmt: skip
FEMALE_NAMES = (
    "Siti", "Dewi", "Sri", "Rina", "Ayu", "Fitri", "Lestari", "Nur", "Wulan", "Indah",
    "Ratna", "Putri", "Yuliana", "Kartika", "Maya", "Anisa", "Dian", "Eka", "Rahmawati", "Sari",
)  # fmt: skip
FAMILY_NAMES = (
    "Santoso", "Wijaya", "Saputra", "Pratama", "Hidayat", "Nugroho", "Setiawan", "Kurniawan",
    "Siregar", "Nasution", "Simanjuntak", "Wibowo", "Gunawan", "Hakim", "Permana", "Purnomo",
    "Susanto", "Halim", "Lubis", "Harahap", "Sembiring", "Utomo", "Firmansyah", "Syahputra",
)  # fmt: skip
PRIMARY_BRANDS = ("Sinovac", "AstraZeneca", "Pfizer", "Moderna", "Sinopharm")
BOOSTER_BRANDS = ("Pfizer", "Moderna", "AstraZeneca", "IndoVac", "Inavac")
BATCH_PREFIX = {
    "Sinovac": "SV",
    "AstraZeneca": "CTMAV",
    "Pfizer": "FK",
    "Moderna": "MD",
    "Sinopharm": "SP",
    "IndoVac": "IV",
    "Inavac": "INV",
}


@dataclass(frozen=True)
class DemoPerson:
    """One of the fixed demo recipients, documented in the README for trying the assistant."""

    nik: str
    birth_date: date
    full_name: str
    phone: str  # E.164, the number on file: a WhatsApp chat from it needs no one-time code


DEMO_PERSON = DemoPerson(
    "3174051708859001", date(1985, 8, 17), "Budi Santoso", "+6281000000001"
)  # next appointment booked
FULLY_VACCINATED_PERSON = DemoPerson(
    "3578030501729002", date(1972, 1, 5), "Agus Setiawan", "+6281000000002"
)  # all done
DEMO_WOMAN = DemoPerson(
    "3273015203909003", date(1990, 3, 12), "Siti Rahayu", "+6281000000003"
)  # day 12 + 40 = 52
DEMO_PERSON_NEXT_APPOINTMENT_DAYS = 14
DEMO_WOMAN_NEXT_APPOINTMENT_DAYS = 21


def demo_records(today: date) -> list[RecipientRecord]:
    """The whole demo registry; the same for the same ``today``."""
    rng = random.Random(DEMO_SEED)
    records = _fixed_records(today)
    for index in range(RANDOM_RECIPIENTS):
        records.append(_random_record(rng, serial=9100 + index, today=today))
    return records


@cache
def demo_niks() -> frozenset[str]:
    """Every demo NIK (they do not depend on ``today``): what the REST test channel may look up."""
    return frozenset(record.nik for record in demo_records(date(2021, 1, 13)))


def seed_demo(session_factory: sessionmaker[Session], today: date) -> UpsertCounts:
    """Load the demo registry; running it again only moves the upcoming appointments."""
    with session_factory() as session:
        counts = upsert_recipients(session, demo_records(today), replace_appointments=True)
        session.commit()
    return counts


def _fixed_records(today: date) -> list[RecipientRecord]:
    jakarta, bandung, surabaya = AREAS[0], AREAS[2], AREAS[3]
    budi = RecipientRecord(
        DEMO_PERSON.nik,
        DEMO_PERSON.full_name,
        DEMO_PERSON.birth_date,
        Sex.MALE,
        DEMO_PERSON.phone,
        jakarta.district,
        doses=[
            DoseRecord(1, "Sinovac", date(2021, 3, 8), jakarta.facility, "SV2103A0417"),
            DoseRecord(2, "Sinovac", date(2021, 4, 5), jakarta.facility, "SV2103B1122"),
        ],
        appointments=[
            _done(1, date(2021, 3, 8), time(9, 0), jakarta),
            _done(2, date(2021, 4, 5), time(9, 30), jakarta),
            _appointment(3, today + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS), time(9, 0), jakarta),
        ],
    )
    agus = RecipientRecord(
        FULLY_VACCINATED_PERSON.nik,
        FULLY_VACCINATED_PERSON.full_name,
        FULLY_VACCINATED_PERSON.birth_date,
        Sex.MALE,
        FULLY_VACCINATED_PERSON.phone,
        surabaya.district,
        doses=[
            DoseRecord(1, "Sinovac", date(2021, 2, 22), surabaya.facility, "SV2102C0311"),
            DoseRecord(2, "Sinovac", date(2021, 3, 22), surabaya.facility, "SV2103C0907"),
            DoseRecord(3, "Pfizer", date(2022, 1, 24), surabaya.facility, "FK2201D5531"),
            DoseRecord(4, "Moderna", date(2023, 2, 6), surabaya.facility, "MD2301E2048"),
        ],
        appointments=[
            _done(1, date(2021, 2, 22), time(8, 30), surabaya),
            _done(2, date(2021, 3, 22), time(8, 30), surabaya),
            _done(3, date(2022, 1, 24), time(10, 0), surabaya),
            _done(4, date(2023, 2, 6), time(10, 0), surabaya),
        ],
    )
    siti = RecipientRecord(
        DEMO_WOMAN.nik,
        DEMO_WOMAN.full_name,
        DEMO_WOMAN.birth_date,
        Sex.FEMALE,
        DEMO_WOMAN.phone,
        bandung.district,
        doses=[
            DoseRecord(1, "AstraZeneca", date(2021, 6, 14), bandung.facility, "CTMAV2106F112"),
            DoseRecord(2, "AstraZeneca", date(2021, 9, 6), bandung.facility, "CTMAV2108G087"),
        ],
        appointments=[
            _done(1, date(2021, 6, 14), time(11, 0), bandung),
            _done(2, date(2021, 9, 6), time(11, 0), bandung),
            _appointment(3, today + timedelta(days=DEMO_WOMAN_NEXT_APPOINTMENT_DAYS), time(10, 30), bandung),
        ],
    )
    return [budi, agus, siti]


def _random_record(rng: random.Random, serial: int, today: date) -> RecipientRecord:
    sex = rng.choice((Sex.MALE, Sex.FEMALE))
    first = rng.choice(MALE_NAMES if sex is Sex.MALE else FEMALE_NAMES)
    birth_date = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    area = rng.choice(AREAS)
    record = RecipientRecord(
        build_nik(area.region_code, birth_date, sex, serial),
        f"{first} {rng.choice(FAMILY_NAMES)}",
        birth_date,
        sex,
        f"+62810{serial:08d}",
        area.district,
    )
    doses_given = rng.choice((0, 1, 2, 2, 3, 3, 3, 4))
    primary, booster = rng.choice(PRIMARY_BRANDS), rng.choice(BOOSTER_BRANDS)
    given_on = date(2021, 3, 1) + timedelta(days=rng.randrange(240))
    gaps = (0, rng.randrange(28, 85), rng.randrange(180, 300), rng.randrange(300, 420))
    for number in range(1, doses_given + 1):
        given_on += timedelta(days=gaps[number - 1])
        brand = primary if number <= 2 else booster
        batch = f"{BATCH_PREFIX[brand]}{rng.randrange(10**6, 10**7)}"
        record.doses.append(DoseRecord(number, brand, given_on, area.facility, batch))
        record.appointments.append(_done(number, given_on, time(rng.choice((8, 9, 10, 11)), 0), area))
    chance = rng.random()
    days_ahead = rng.randrange(3, 31)
    slot = time(rng.choice((8, 9, 10, 13, 14)), rng.choice((0, 30)))
    if chance < 0.1 and doses_given < 4:
        missed_on = today - timedelta(days=days_ahead)
        record.appointments.append(
            _appointment(doses_given + 1, missed_on, slot, area, AppointmentStatus.MISSED)
        )
    elif chance < 0.5 and doses_given < 4:
        record.appointments.append(
            _appointment(doses_given + 1, today + timedelta(days=days_ahead), slot, area)
        )
    return record


def _done(dose_number: int, day: date, at: time, area: Area) -> AppointmentRecord:
    return _appointment(dose_number, day, at, area, AppointmentStatus.DONE)


def _appointment(
    dose_number: int,
    day: date,
    at: time,
    area: Area,
    status: AppointmentStatus = AppointmentStatus.SCHEDULED,
) -> AppointmentRecord:
    return AppointmentRecord(dose_number, datetime.combine(day, at), area.facility, area.address, status)
