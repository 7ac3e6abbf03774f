from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.nik import Nik, Sex, check_nik_matches, validate_nik
from services.registry.csv_format import write_csv
from services.registry.csv_import import import_csv
from services.registry.demo import (
    DEMO_PERSON,
    DEMO_PERSON_NEXT_APPOINTMENT_DAYS,
    DEMO_WOMAN,
    FULLY_VACCINATED_PERSON,
    demo_records,
    seed_demo,
)
from services.registry.models import AppointmentStatus
from services.registry.phone import is_e164
from tests.services.registry.support import TODAY


def test_demo_data_is_deterministic() -> None:
    assert demo_records(TODAY) == demo_records(TODAY)


def test_only_upcoming_appointments_move_with_today() -> None:
    now, later = demo_records(TODAY), demo_records(TODAY + timedelta(days=30))
    assert [(r.nik, r.full_name, r.doses) for r in now] == [(r.nik, r.full_name, r.doses) for r in later]


def test_every_demo_nik_is_valid_consistent_and_clear_of_real_serials() -> None:
    records = demo_records(TODAY)
    assert len({record.nik for record in records}) == len(records) > 40
    for record in records:
        nik = validate_nik(record.nik)
        assert isinstance(nik, Nik), record.nik
        assert check_nik_matches(nik, record.birth_date, record.sex) is None
        assert int(nik.serial) >= 9001
        assert is_e164(record.phone) and record.phone.startswith("+62810")


def test_the_documented_demo_people() -> None:
    by_nik = {record.nik: record for record in demo_records(TODAY)}
    budi = by_nik[DEMO_PERSON.nik]
    assert (budi.full_name, budi.birth_date) == ("Budi Santoso", date(1985, 8, 17))
    scheduled = [a for a in budi.appointments if a.status is AppointmentStatus.SCHEDULED]
    assert [a.scheduled_at.date() for a in scheduled] == [
        TODAY + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS)
    ]

    agus = by_nik[FULLY_VACCINATED_PERSON.nik]
    assert len(agus.doses) == 4
    assert all(a.status is AppointmentStatus.DONE for a in agus.appointments)

    siti = by_nik[DEMO_WOMAN.nik]
    assert siti.sex is Sex.FEMALE
    assert int(siti.nik[6:8]) == siti.birth_date.day + 40


def test_the_readme_shows_the_demo_person() -> None:
    readme = (Path(__file__).parents[3] / "services" / "registry" / "README.md").read_text(encoding="utf-8")
    assert DEMO_PERSON.nik in readme
    assert DEMO_PERSON.birth_date.isoformat() in readme


def test_demo_data_passes_the_csv_import_checks(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "demo.csv"
    write_csv(demo_records(TODAY), path)
    result = import_csv(session_factory, path, TODAY)
    assert result.ok, result.rejected[:5]
    assert result.counts.recipients_added == len(demo_records(TODAY))


def test_seeding_twice_changes_nothing_and_a_later_day_moves_appointments(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    first = seed_demo(session_factory, TODAY)
    assert first.recipients_added > 40
    assert seed_demo(session_factory, TODAY).changed == 0
    later = seed_demo(session_factory, TODAY + timedelta(days=7))
    assert later.recipients_added == later.doses_added == 0
    assert later.appointments_added == later.appointments_removed > 0
    with engine.connect() as connection:
        scheduled_for_budi = connection.execute(
            text(
                "SELECT COUNT(*) FROM appointments"
                " JOIN recipients ON recipients.id = appointments.recipient_id"
                " WHERE recipients.nik = :nik AND status = 'scheduled'"
            ),
            {"nik": DEMO_PERSON.nik},
        ).scalar()
    assert scheduled_for_budi == 1
