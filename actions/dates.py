"""Reading birth dates the way people type them, and writing dates the Indonesian way.

People write ``17-08-1985``, ``17/8/85``, ``17 Agustus 1985``, ``17 agt 85``, ``Agustus 17, 1985`` or
``17agustus1985``. Messages for
people are Indonesian and never repeat the date they sent: bot replies are stored with the
conversation, and the tracker store only redacts what the user wrote.

Month words come from core/months.py, the table the redaction of personal data reads too, so
every month word the form accepts is one the tracker store hides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from enum import Enum

from core.months import MONTH_NAMES, MONTH_PATTERN, MONTHS

WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
OLDEST_BIRTH_YEAR = 1900
EXAMPLE = "21-04-1990 atau 21 April 1990"  # nobody in the demo registry: safe to show and to store

_SEPARATOR = r"(?:\s*[-/.]\s*|\s+)"
_DAY_MONTH_YEAR = re.compile(r"(?<!\d)(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?!\d)")
_SPACED = re.compile(r"(?<!\d)(\d{1,2})\s+(\d{1,2})\s+(\d{4})(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)")
_WORDED = re.compile(
    rf"(?<!\d)(\d{{1,2}}){_SEPARATOR}({MONTH_PATTERN})\b\.?(?:\s*[-/.,]\s*|\s+)'?(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
# "Agustus 17, 1985", "Aug 17th 85": the month first, as English-style forms write it.
_MONTH_FIRST = re.compile(
    rf"(?<![^\W\d_])({MONTH_PATTERN})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?(?:\s*[-/.,]\s*|\s+)'?(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
# "17agustus1985", "17agt85": day, month word and year glued together.
_GLUED = re.compile(rf"(?<!\d)(\d{{1,2}})({MONTH_PATTERN})(\d{{4}}|\d{{2}})(?!\d)", re.IGNORECASE)
_COMPACT = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)")
# A day and month without a year: "17-08", "17 Agustus".
_NO_YEAR = re.compile(
    rf"(?<!\d)\d{{1,2}}\s*[-/.]\s*\d{{1,2}}(?![\d/.-])|(?<!\d)\d{{1,2}}{_SEPARATOR}(?:{MONTH_PATTERN})\b",
    re.IGNORECASE,
)
# A date has no group of more than 8 digits (17081985); an NIK or a phone number typed in one piece does.
_LONG_NUMBER = re.compile(r"\d{9,}")


class DateProblem(str, Enum):
    NO_DATE = "no_date"
    NO_YEAR = "no_year"
    AMBIGUOUS = "ambiguous"
    MONTH_OUT_OF_RANGE = "month_out_of_range"
    DAY_NOT_IN_MONTH = "day_not_in_month"
    IN_THE_FUTURE = "in_the_future"
    TOO_OLD = "too_old"


_MESSAGES: dict[DateProblem, str] = {
    DateProblem.NO_DATE: (
        "Saya tidak menemukan tanggal lahir di pesan Anda. Tulis tanggal, bulan, dan tahun, "
        f"misalnya {EXAMPLE}."
    ),
    DateProblem.NO_YEAR: f"Tahun lahirnya belum ada. Tulis tanggal lahir lengkap, misalnya {EXAMPLE}.",
    DateProblem.AMBIGUOUS: "Ada lebih dari satu tanggal di pesan Anda. Mohon kirim tanggal lahir saja.",
    DateProblem.MONTH_OUT_OF_RANGE: (
        "Tanggal lahir tidak valid: bulan harus angka 1 sampai 12. Urutannya tanggal-bulan-tahun, "
        f"misalnya {EXAMPLE}."
    ),
    DateProblem.DAY_NOT_IN_MONTH: (
        "Tanggal lahir tidak valid: tanggal itu tidak ada di bulan tersebut (misalnya 31 April "
        "atau 30 Februari). Mohon periksa kembali."
    ),
    DateProblem.IN_THE_FUTURE: "Tanggal lahir tidak valid: tanggalnya belum lewat. Mohon periksa kembali.",
    DateProblem.TOO_OLD: (
        f"Tanggal lahir tidak valid: tahunnya sebelum {OLDEST_BIRTH_YEAR}. Mohon periksa kembali."
    ),
}


@dataclass(frozen=True)
class DateRejection:
    """Why a text is not a usable birth date."""

    problem: DateProblem
    message: str  # Indonesian, safe to show the person (repeats nothing they sent)


@dataclass(frozen=True)
class _Candidate:
    day: int
    month: int
    year: int
    two_digit_year: bool


def _reject(problem: DateProblem) -> DateRejection:
    return DateRejection(problem, _MESSAGES[problem])


def _candidates(text: str) -> list[_Candidate]:
    found: list[tuple[int, _Candidate]] = []
    taken: list[range] = []

    def add(match: re.Match[str], day: str, month: int, year: str) -> None:
        span = range(match.start(), match.end())
        if any(span.start < other.stop and other.start < span.stop for other in taken):
            return
        taken.append(span)
        found.append((match.start(), _Candidate(int(day), month, int(year), len(year) == 2)))

    for match in _WORDED.finditer(text):
        add(match, match.group(1), MONTHS[match.group(2).lower()], match.group(3))
    for match in _GLUED.finditer(text):
        add(match, match.group(1), MONTHS[match.group(2).lower()], match.group(3))
    for match in _MONTH_FIRST.finditer(text):
        add(match, match.group(2), MONTHS[match.group(1).lower()], match.group(3))
    for match in _ISO.finditer(text):
        add(match, match.group(4), int(match.group(3)), match.group(1))
    for match in _DAY_MONTH_YEAR.finditer(text):
        add(match, match.group(1), int(match.group(3)), match.group(4))
    for match in _SPACED.finditer(text):
        add(match, match.group(1), int(match.group(2)), match.group(3))
    for match in _COMPACT.finditer(text):
        add(match, match.group(1), int(match.group(2)), match.group(3))
    return [candidate for _, candidate in sorted(found, key=lambda item: item[0])]


def without_long_numbers(text: str) -> str:
    """The text with long unbroken numbers (an NIK, a phone number) blanked, so no date is read in them."""
    return _LONG_NUMBER.sub(" ", text)


def looks_like_a_date(text: str) -> bool:
    """Whether the text holds something written like a date, possible or not."""
    cleaned = without_long_numbers(text)
    return bool(_candidates(cleaned)) or bool(_NO_YEAR.search(cleaned))


def parse_birth_date(text: str, today: date) -> date | DateRejection:
    """The birth date in what someone typed, or why there is none.

    A two-digit year is the latest of 19xx and 20xx that is not after ``today``.
    """
    cleaned = without_long_numbers(text)
    candidates = list(dict.fromkeys(_candidates(cleaned)))
    if not candidates:
        return _reject(DateProblem.NO_YEAR if _NO_YEAR.search(cleaned) else DateProblem.NO_DATE)
    if len(candidates) > 1:
        return _reject(DateProblem.AMBIGUOUS)
    return _checked(candidates[0], today)


def _checked(candidate: _Candidate, today: date) -> date | DateRejection:
    if not 1 <= candidate.month <= 12:
        return _reject(DateProblem.MONTH_OUT_OF_RANGE)
    years = [2000 + candidate.year, 1900 + candidate.year] if candidate.two_digit_year else [candidate.year]
    possible = []
    for year in years:
        try:
            possible.append(date(year, candidate.month, candidate.day))
        except ValueError:
            continue
    if not possible:
        return _reject(DateProblem.DAY_NOT_IN_MONTH)
    past = [day for day in possible if day <= today]
    if not past:
        return _reject(DateProblem.IN_THE_FUTURE)
    born = past[0]
    if born.year < OLDEST_BIRTH_YEAR:
        return _reject(DateProblem.TOO_OLD)
    return born


def format_date(day: date) -> str:
    """``14 Desember 2026``."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def format_day_and_date(day: date) -> str:
    """``Senin, 14 Desember 2026``."""
    return f"{WEEKDAY_NAMES[day.weekday()]}, {format_date(day)}"


def format_time(moment: time) -> str:
    """``09.00``: Indonesian writes the time with a dot."""
    return f"{moment.hour:02d}.{moment.minute:02d}"
