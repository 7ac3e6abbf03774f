"""CSV import on both backends: every row checked, all or nothing, idempotent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.registry.csv_format import COLUMNS
from services.registry.csv_import import import_csv
from services.registry.models import Appointment, Dose, Recipient
from tests.services.registry.support import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "registry_example.csv"
REJECTED = FIXTURES / "registry_rejected.csv"
DEWI, HENDRA = "3471014907929201", "1271013011689202"


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in ("recipients", "doses", "appointments")
        }


def count(session_factory: sessionmaker[Session], model: type[object]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({name: row.get(name, "") for name in COLUMNS} for row in rows)
    return path


def dewi(**changes: str) -> dict[str, str]:
    row = {
        "nik": DEWI,
        "full_name": "Dewi Lestari",
        "birth_date": "1992-07-09",
        "sex": "P",
        "phone": "+6281000009201",
        "district": "Mantrijeron, Kota Yogyakarta",
        "record": "dose",
        "dose_number": "1",
        "vaccine_brand": "Sinovac",
        "date": "2021-05-03",
        "facility": "Puskesmas Mantrijeron",
        "batch": "SV2105A0001",
    }
    return {**row, **changes}


def test_the_example_file_imports(session_factory: sessionmaker[Session]) -> None:
    result = import_csv(session_factory, EXAMPLE, TODAY)
    assert result.ok, result.rejected
    assert result.rows == 8
    assert (result.counts.recipients_added, result.counts.doses_added, result.counts.appointments_added) == (
        3,
        5,
        2,
    )
    with session_factory() as session:
        dewi = session.scalars(select(Recipient).where(Recipient.nik == DEWI)).one()
        assert dewi.sex == "P"
        assert [dose.vaccine_brand for dose in dewi.doses] == ["Sinovac", "Sinovac"]  # CoronaVac -> Sinovac
        assert [appointment.status for appointment in dewi.appointments] == ["scheduled"]
        assert dewi.appointments[0].facility_address.startswith("Jl. D.I. Panjaitan")
    assert count(session_factory, Recipient) == 3


def test_re_importing_the_same_file_changes_nothing(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    assert import_csv(session_factory, EXAMPLE, TODAY).ok
    before = snapshot(engine)
    again = import_csv(session_factory, EXAMPLE, TODAY)
    assert again.ok
    assert again.counts.changed == 0
    assert snapshot(engine) == before


def test_a_changed_row_updates_in_place(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    assert import_csv(session_factory, write(tmp_path / "a.csv", [dewi()]), TODAY).ok
    changed = import_csv(
        session_factory, write(tmp_path / "b.csv", [dewi(batch="SV-FIXED", phone="+6281000000999")]), TODAY
    )
    assert changed.ok
    assert (changed.counts.recipients_updated, changed.counts.doses_updated, changed.counts.doses_added) == (
        1,
        1,
        0,
    )
    with session_factory() as session:
        dose = session.scalars(select(Dose)).one()
        assert dose.batch == "SV-FIXED"


def test_a_bad_file_is_rejected_entirely_with_line_numbers(session_factory: sessionmaker[Session]) -> None:
    result = import_csv(session_factory, REJECTED, TODAY)
    assert not result.ok
    reasons = {row.line: " ".join(row.reasons) for row in result.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "nik: 15 digits instead of 16" in reasons[3]
    assert "sex does not match" in reasons[4]
    assert "phone" in reasons[5] and "E.164" in reasons[5]
    assert "vaccine_brand" in reasons[6]
    assert "dose 3 needs dose 2" in reasons[7]
    assert "date" in reasons[8]
    assert count(session_factory, Recipient) == 0  # the good lines 2 and 9 were not written either
    assert count(session_factory, Dose) == 0


def test_a_bad_file_leaves_earlier_data_untouched(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    assert import_csv(session_factory, EXAMPLE, TODAY).ok
    before = snapshot(engine)
    assert not import_csv(session_factory, REJECTED, TODAY).ok
    assert snapshot(engine) == before


def test_rejections_never_repeat_the_values(session_factory: sessionmaker[Session]) -> None:
    result = import_csv(session_factory, REJECTED, TODAY)
    printed = "\n".join(str(row) for row in result.rejected)
    for value in ("347101490792920", "3471010907929204", "1992-07-09", "081000009202", "2021-02-30"):
        assert value not in printed


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (dewi(birth_date="1992-07-10"), "birth date does not match"),
        (dewi(birth_date="09-07-1992"), "birth_date: expected a real date"),
        (dewi(sex="X"), "sex: expected L"),
        (dewi(sex="L"), "sex does not match"),
        (dewi(full_name=""), "full_name: required"),
        (dewi(district=" "), "district: required"),
        (dewi(record="vaccination"), "record: expected"),
        (dewi(dose_number="0"), "dose_number"),
        (dewi(dose_number="two"), "dose_number"),
        (dewi(date="2030-01-01"), "in the future"),
        (dewi(date="1990-01-01"), "before the birth date"),
        (dewi(batch=""), "batch: required"),
        (dewi(facility="x" * 201), "facility: longer than 200"),
        (
            dewi(record="appointment", time="8.30", status="scheduled", facility_address="Jl. X"),
            "time: expected",
        ),
        (
            dewi(record="appointment", time="08:30", status="booked", facility_address="Jl. X"),
            "status: expected",
        ),
        (
            dewi(record="appointment", time="08:30", status="scheduled", facility_address=""),
            "facility_address",
        ),
        (dewi(nik="0071014907929201"), "province"),
        (dewi(nik="3471014907920000"), "serial"),
    ],
)
def test_row_rules(
    session_factory: sessionmaker[Session], tmp_path: Path, row: dict[str, str], reason: str
) -> None:
    result = import_csv(session_factory, write(tmp_path / "one.csv", [row]), TODAY)
    assert [rejected.line for rejected in result.rejected] == [2]
    assert reason in " ".join(result.rejected[0].reasons)


def test_dose_order_can_be_satisfied_by_the_registry(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    assert import_csv(session_factory, write(tmp_path / "first.csv", [dewi()]), TODAY).ok
    second = write(tmp_path / "second.csv", [dewi(dose_number="2", date="2021-05-31", batch="B2")])
    assert import_csv(session_factory, second, TODAY).ok
    assert count(session_factory, Dose) == 2


def test_a_dose_dated_before_the_previous_one(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [dewi(), dewi(dose_number="2", date="2021-04-01", batch="B2")]
    result = import_csv(session_factory, write(tmp_path / "order.csv", rows), TODAY)
    assert [(row.line, row.reasons) for row in result.rejected] == [(3, ("dose 2 is dated before dose 1",))]


def test_cross_row_rules(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    booking = {"record": "appointment", "date": "2026-12-01", "time": "09:00", "status": "scheduled"}
    rows = [
        dewi(),
        dewi(dose_number="1", batch="OTHER"),  # the same dose twice
        dewi(dose_number="2", date="2021-05-31", full_name="Dewi L."),  # different details, same NIK
        dewi(**booking, dose_number="1", facility_address="Jl. X"),  # dose 1 was already given
        dewi(**booking, dose_number="5", facility_address="Jl. X"),  # dose 4 never was
    ]
    result = import_csv(session_factory, write(tmp_path / "cross.csv", rows), TODAY)
    reasons = {row.line: " ".join(row.reasons) for row in result.rejected}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "also on line 2" in reasons[3]
    assert "differ from line 2" in reasons[4]
    assert "already given" in reasons[5]
    assert "needs dose 4" in reasons[6]


def test_header_problems_are_line_one(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("nik,full_name,birthdate\n", encoding="utf-8")
    result = import_csv(session_factory, path, TODAY)
    assert [row.line for row in result.rejected] == [1]
    assert "missing column birth_date" in result.rejected[0].reasons
    assert "unknown column birthdate" in result.rejected[0].reasons


def test_a_byte_order_mark_from_excel_is_fine(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert import_csv(session_factory, path, TODAY).ok


def test_appointment_rows_are_keyed_by_date_and_time(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    assert import_csv(session_factory, EXAMPLE, TODAY).ok
    moved = EXAMPLE.read_text(encoding="utf-8").replace("2026-12-15,08:30", "2026-12-16,08:30")
    path = tmp_path / "moved.csv"
    path.write_text(moved, encoding="utf-8")
    assert import_csv(session_factory, path, TODAY).ok
    assert count(session_factory, Appointment) == 3  # a new slot; import never deletes
