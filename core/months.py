"""Month words as people in Indonesia write them: the one month table of the project.

The schedule check reads birth dates with these words (actions/dates.py), and every place that
redacts personal data finds dates with the same words (core/personal_data.py). Kept in one table so
a word the form learns to read is a word the redaction hides.
"""

from __future__ import annotations

import re

# Indonesian names, old spellings (pebruari, nopember), common misspellings and the abbreviations
# people use (agt, ags, agu, mrt, nop, peb ...), and English.
MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "pebruari": 2, "febuari": 2, "pebuari": 2, "feb": 2, "peb": 2, "febr": 2, "february": 2,
    "maret": 3, "mar": 3, "mrt": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agst": 8, "agus": 8, "agust": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip

# How the assistant writes a month ("14 Desember 2026").
MONTH_NAMES = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

# Any month word, longest first so "agustus" is not read as "agu"; use with re.IGNORECASE.
MONTH_PATTERN = "|".join(sorted((re.escape(word) for word in MONTHS), key=len, reverse=True))

# Formal Indonesian writes the month in Roman numerals too ("17/VIII/1985"); capitals only.
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
ROMAN_MONTH_PATTERN = "|".join(sorted(ROMAN_MONTHS, key=len, reverse=True))
