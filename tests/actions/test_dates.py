"""Birth dates as people type them, impossible ones with a clear reason, and Indonesian date writing."""

from __future__ import annotations

from datetime import date, time

import pytest

from actions.dates import (
    MONTH_NAMES,
    MONTHS,
    DateProblem,
    DateRejection,
    format_date,
    format_day_and_date,
    format_time,
    looks_like_a_date,
    parse_birth_date,
)

TODAY = date(2026, 11, 26)
BORN = date(1985, 8, 17)


@pytest.mark.parametrize(
    "text",
    [
        "17-08-1985",
        "17/8/85",
        "17 Agustus 1985",
        "17 agt 85",
        "Agustus 17, 1985",  # month first (issue #11: redacted, and now read too)
        "Aug 17th 1985",
        "17agustus1985",  # glued
        "17AGT85",
        "17 AGT. 85",
        "17 agu 1985",
        "17 ags '85",
        "17-Agustus-1985",
        "17 august 1985",
        "17 aug 85",
        "17.08.1985",
        "17 - 08 - 1985",
        "17 08 1985",
        "1985-08-17",
        "17081985",
        "lahirnya tgl 17/08/1985 kak",
        "Tanggal lahir: 17 Agustus 1985.",
        "3174051708859001 17-08-1985",  # NIK and birth date in one message: the NIK is no date
        "NIK 3174 0517 0885 9001 lahir 17 agt 85",
    ],
)
def test_every_way_people_write_a_birth_date(text: str) -> None:
    assert parse_birth_date(text, TODAY) == BORN
    assert looks_like_a_date(text)


@pytest.mark.parametrize("word", sorted(MONTHS))
def test_every_month_word_is_read(word: str) -> None:
    assert parse_birth_date(f"5 {word} 1990", TODAY) == date(1990, MONTHS[word], 5)
    assert parse_birth_date(f"{word} 5, 1990", TODAY) == date(1990, MONTHS[word], 5)
    assert parse_birth_date(f"5{word}1990", TODAY) == date(1990, MONTHS[word], 5)


@pytest.mark.parametrize("text", ["jun 2021", "dosis 2 tahun 2021", "bulan mei 85"])
def test_a_month_and_year_alone_is_no_birth_date(text: str) -> None:
    assert isinstance(parse_birth_date(text, TODAY), DateRejection)


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("17/8/85", date(1985, 8, 17)),
        ("1/1/05", date(2005, 1, 1)),  # a child: 2005, not 1905
        ("17/11/26", date(2026, 11, 17)),  # a baby born this month
        ("17/12/26", date(1926, 12, 17)),  # 2026-12-17 is still to come: 1926
        ("29/02/00", date(2000, 2, 29)),
        ("31 des 99", date(1999, 12, 31)),
    ],
)
def test_two_digit_years_take_the_latest_century_already_past(text: str, born: date) -> None:
    assert parse_birth_date(text, TODAY) == born


@pytest.mark.parametrize(
    ("text", "problem", "says"),
    [
        ("31-02-1990", DateProblem.DAY_NOT_IN_MONTH, "tidak ada di bulan tersebut"),
        ("31 April 1990", DateProblem.DAY_NOT_IN_MONTH, "tidak ada di bulan tersebut"),
        ("29-02-2023", DateProblem.DAY_NOT_IN_MONTH, "tidak ada di bulan tersebut"),
        ("29/2/25", DateProblem.DAY_NOT_IN_MONTH, "tidak ada di bulan tersebut"),  # neither 2025 nor 1925
        ("00-08-1985", DateProblem.DAY_NOT_IN_MONTH, "tidak ada di bulan tersebut"),
        ("17-13-1985", DateProblem.MONTH_OUT_OF_RANGE, "bulan harus angka 1 sampai 12"),
        ("08/17/1985", DateProblem.MONTH_OUT_OF_RANGE, "tanggal-bulan-tahun"),  # month first, US style
        ("17-08-2030", DateProblem.IN_THE_FUTURE, "belum lewat"),
        ("17-08-1885", DateProblem.TOO_OLD, "sebelum 1900"),
        ("17 Agustus", DateProblem.NO_YEAR, "Tahun lahirnya belum ada"),
        ("17-08", DateProblem.NO_YEAR, "Tahun lahirnya belum ada"),
        ("saya lupa", DateProblem.NO_DATE, "tidak menemukan tanggal lahir"),
        ("lahir tahun 85", DateProblem.NO_DATE, "tidak menemukan tanggal lahir"),
        ("17-08-1985 atau 18-08-1985", DateProblem.AMBIGUOUS, "lebih dari satu tanggal"),
    ],
)
def test_impossible_or_missing_dates_say_what_is_wrong(text: str, problem: DateProblem, says: str) -> None:
    rejection = parse_birth_date(text, TODAY)
    assert isinstance(rejection, DateRejection)
    assert rejection.problem is problem
    assert says in rejection.message


def test_rejections_never_repeat_what_was_sent() -> None:
    """Bot replies are stored with the conversation: they must not carry the date back."""
    for text in ("31-02-1990", "17-13-1985", "17-08-2030", "17-08-1885", "17 Agustus"):
        rejection = parse_birth_date(text, TODAY)
        assert isinstance(rejection, DateRejection)
        assert not any(part in rejection.message for part in ("31-02", "1985", "2030", "1885", "17 "))


def test_not_a_date() -> None:
    assert not looks_like_a_date("vaksin bayar ga?")
    assert not looks_like_a_date("jarak dosis 1 ke 2 berapa lama")
    assert not looks_like_a_date("3174051708859001")


def test_indonesian_date_and_time_writing() -> None:
    assert format_date(date(2021, 3, 8)) == "8 Maret 2021"
    assert format_day_and_date(date(2026, 12, 14)) == "Senin, 14 Desember 2026"
    assert format_day_and_date(date(2026, 12, 20)) == "Minggu, 20 Desember 2026"
    assert format_time(time(9, 0)) == "09.00"
    assert format_time(time(14, 30)) == "14.30"
    assert len(MONTH_NAMES) == 12
