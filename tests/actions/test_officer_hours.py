"""Working hours: open or not, when officers start again, and how the recipient reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.officer_hours import WorkingHours, WorkingHoursError

HOURS = WorkingHours.parse("mon-fri 08:00-16:00", "Asia/Jakarta")


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-12-07 08:00", True),  # Monday, first minute
        ("2026-12-07 15:59", True),
        ("2026-12-07 16:00", False),
        ("2026-12-07 07:59", False),
        ("2026-12-05 10:00", False),  # Saturday
        ("2026-12-06 10:00", False),  # Sunday
    ],
)
def test_open_in_working_hours_only(moment: str, open_: bool) -> None:
    assert HOURS.is_open(datetime.fromisoformat(moment).replace(tzinfo=HOURS.zone)) is open_


def test_friday_evening_waits_for_monday_morning() -> None:
    friday_evening = datetime(2026, 12, 4, 17, 30, tzinfo=HOURS.zone)
    opening = HOURS.next_opening(friday_evening)
    assert HOURS.describe_moment(opening) == "Senin, 7 Desember pukul 08.00 WIB"


def test_early_morning_waits_for_the_same_day_and_utc_input_works() -> None:
    tuesday_early_utc = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # Tuesday 06:00 in Jakarta
    opening = HOURS.next_opening(tuesday_early_utc)
    assert HOURS.describe_moment(opening) == "Selasa, 8 Desember pukul 08.00 WIB"


def test_described_in_indonesian_with_the_zone_people_use() -> None:
    assert HOURS.describe() == "Senin–Jumat, 08.00–16.00 WIB"
    assert WorkingHours.parse("sat 07:30-12:00", "Asia/Makassar").describe() == "Sabtu, 07.30–12.00 WITA"
    weekend_wrap = WorkingHours.parse("sat-mon 09:00-10:00", "Asia/Jayapura")
    assert weekend_wrap.days == (5, 6, 0)
    assert weekend_wrap.describe() == "Sabtu–Senin, 09.00–10.00 WIT"


@pytest.mark.parametrize(
    ("spec", "zone"),
    [
        ("weekdays 8-16", "Asia/Jakarta"),
        ("mon-fri 16:00-08:00", "Asia/Jakarta"),
        ("mon-fri 08:00-25:00", "Asia/Jakarta"),
        ("mon-xyz 08:00-16:00", "Asia/Jakarta"),
        ("mon-fri 08:00-16:00", "Mars/Olympus"),
        ("", "Asia/Jakarta"),
    ],
)
def test_unreadable_settings_are_refused_with_how_to_write_them(spec: str, zone: str) -> None:
    with pytest.raises(WorkingHoursError):
        WorkingHours.parse(spec, zone)


def test_around_the_clock_is_always_open() -> None:
    always = WorkingHours.parse("mon-sun 00:00-24:00", "Asia/Jakarta")
    assert always.describe() == "Senin–Minggu, 00.00–24.00 WIB"
    for hour in (0, 7, 16, 23):
        assert always.is_open(datetime(2026, 12, 6, hour, 59, 59, tzinfo=always.zone))
