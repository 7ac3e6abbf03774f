"""Personal data found by meaning and replaced by placeholders, wherever text is kept.

People type their NIK and birth date into a chat however they like: in groups with spaces, dots,
dashes, slashes or commas, over several lines, in words, with the month before or after the day or
glued to it ("17agustus1985"). So redaction does not look for formats; it reads text as a person
does:

- A *number* is a chain of digit groups joined by anything that is neither a letter nor a digit,
  within a few characters ("3174/0517/0885/9001", "3174, 0517, ...", one group a line). Any Unicode
  digit counts, and O / l typed for 0 / 1; a number spelled in digit words ("tiga satu tujuh ...")
  is a number of its own. A chain of 16 or more digits is an NIK; 9-15 digits starting like an
  Indonesian mobile number (+62 8, 62 8, 08) are a phone number; any other chain of 10 or more digits
  is a number, unless it is a list of times, amounts of money or years ("08.00-12.00, 13.00",
  "Rp 1.500.000 - 2.500.000", "Fatwa 13/2021, 2022"). Two chains with a word or two between them
  ("3174 0517 eh 0885 9001") are one NIK when they hold 16 digits laid out as one, unless one of them
  is a mobile number dialled in full (08..., 62 8...).
- A *date* is a day, a month and a year in any order and spelling people use: numbers with any
  separators (17-08-1985, 17/8/85, 1985-08-17, 17 08 1985), run together (17081985, 170885,
  19850817), or with a month word of core/months.py before or after the day, glued or not
  (17 Agustus 1985, Agustus 17, 1985, 17agustus1985, 17-Agu-1985, 17 agt '85, tgl 17 bln 8 thn 1985).
  Impossible dates are hidden too: what someone typed by mistake is as personal as the truth.
  Numbers are read before dates, so an NIK is never taken apart into a "date" and digits left over.
- E-mail addresses.

Ordinary numbers stay ("dosis 2", "umur 60 tahun", "3-6 bulan", "jam 08.00", "Rp150.000", "119 ext
9"), and so does a day without a year ("vaksin 19 maret"). Inside a web address a slash ends a number,
so a link keeps its path.

Standard library only, Python 3.10 syntax: the tracker store (Rasa, Python 3.10) and the review app
(Python 3.11) both import it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.months import MONTH_PATTERN, ROMAN_MONTH_PATTERN

NIK_PLACEHOLDER = "[NIK]"
PHONE_PLACEHOLDER = "[TELEPON]"
NUMBER_PLACEHOLDER = "[NOMOR]"
DATE_PLACEHOLDER = "[TANGGAL]"
EMAIL_PLACEHOLDER = "[EMAIL]"
CODE_PLACEHOLDER = "[KODE]"  # a one-time code typed in answer to "type the code"
# A whole answer kept out of storage: a new name or number for a correction, symptoms of a KIPI report.
WITHHELD_PLACEHOLDER = "[DIRAHASIAKAN]"
# Text that holds one of these held personal data before it was redacted.
PLACEHOLDER_PATTERN = re.compile(r"\[(?:NIK|TELEPON|NOMOR|TANGGAL|EMAIL|KODE)\]", re.IGNORECASE)

NIK_DIGITS = 16
MIN_NUMBER_DIGITS = 10  # an NIK, a mobile (08xx, 10-13 digits) or a landline with its area code
PHONE_DIGITS = range(9, 16)
MAX_GAP = 6  # characters between two groups of one number: " / ", ", ", "\r\n", " - "
MAX_WORD_GAP = 20  # characters between two parts of an NIK with a word or two between them
FEMALE_DAY_OFFSET = 40  # an NIK's day of birth is +40 for women

DIGIT_WORDS: dict[str, str] = {
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4", "lima": "5",
    "enam": "6", "tujuh": "7", "delapan": "8", "sembilan": "9",
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_LOOKALIKE_DIGITS = {"o": "0", "O": "0", "l": "1", "I": "1"}

_LETTER_BEFORE = r"(?<![^\W\d_])"  # not right after a letter
_NO_LETTER_AFTER = r"(?![^\W\d_])"
_LOOKALIKE = "(?-i:[oOlI])"
_WORDS = "|".join(sorted(DIGIT_WORDS, key=len, reverse=True))
# One group of a number: digits (O and l inside, or at an edge facing no letter, read as 0 and 1),
# or one digit word.
_UNIT = re.compile(
    rf"(?P<digits>(?:{_LETTER_BEFORE}{_LOOKALIKE}{{1,3}}(?=\d))?\d(?:{_LOOKALIKE}{{0,3}}\d)*"
    rf"(?:{_LOOKALIKE}{{1,3}}{_NO_LETTER_AFTER})?)"
    rf"|{_LETTER_BEFORE}(?P<word>{_WORDS}){_NO_LETTER_AFTER}",
    re.IGNORECASE,
)
_GAP = re.compile(r"[\W_]*")
_LETTER = re.compile(r"[^\W\d_]")
_BARE_DIGITS = 3  # digits in a message of only numbers that hide it: more than a menu choice
# One or two words standing apart from the digits ("0517 eh 0885"), not letters glued to them as in
# an identifier or a token ("k8Xz0517").
_WORD_GAP = re.compile(r"[\W_]*\s[\W_]*[^\W\d_]+(?:[\W_]*\s[\W_]*[^\W\d_]+)?[\W_]*\s[\W_]*")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PHONE_PREFIX = re.compile(r"(?:\+\s?|\()\Z")
_MOBILE_START = re.compile(r"(?:0|62)?8[1-9]")  # 0812..., +62 812..., 812...; 0800 is toll-free
_DIALLED_MOBILE = re.compile(r"(?:0|62)8[1-9]")
_TIME = r"(?:[01]?\d|2[0-3])[.:][0-5]\d"
_AMOUNT = r"[1-9]\d{0,2}(?:[.,]\d{3})+"
# Lists of times or amounts of money: "08.00-12.00, 13.00", "Rp 1.500.000 - 2.500.000".
_QUANTITIES = re.compile(
    rf"{_TIME}(?:[\W_]{{1,{MAX_GAP}}}{_TIME})+|{_AMOUNT}(?:[\W_]{{1,{MAX_GAP}}}{_AMOUNT})*"
)
_SPREAD_OUT = 4  # groups of a date spelled digit by digit ("1 7 0 8 1 9 8 5")
_YEAR_NUMBER = re.compile(r"(?:19|20)\d{2}")
EMAIL_PATTERN = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")

_S = r"[\W_]"  # a separator: any character that is neither a letter nor a digit (spaces, line breaks ...)
_DAY = r"(?<!\d)\d{1,2}(?!\d)(?:st|nd|rd|th)?"
_MONTH_WORD = rf"{_LETTER_BEFORE}(?:{MONTH_PATTERN}|(?-i:{ROMAN_MONTH_PATTERN})){_NO_LETTER_AFTER}\.?"
# Day, month and year run together: 17081985, 170885, 19850817.
_DAY_MONTH = r"(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])"
_COMPACT_DATE = rf"{_DAY_MONTH}(?:19|20)?\d{{2}}|(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_COMPACT_DATE_NUMBER = re.compile(_COMPACT_DATE)
_YEAR = rf"{_S}{{0,4}}(?:\d{{4}}|\d{{2}})(?!\d)"  # 1985, '85, glued
_MONTH_BEFORE = r"(?:(?:of|bulan|bln)\.?" + _S + r"{1,3})?"
_YEAR_BEFORE = r"(?:" + _S + r"{0,3}(?:tahun|thn|th)\.?)?"
# A full date, however it is written (impossible ones too). Those that start with a number are found
# first, so "mei 17-08-1985" is "mei [TANGGAL]", not "Mei 17" and a year left behind.
_DAY_FIRST_DATE = re.compile(
    "|".join(
        (
            rf"{_DAY}{_S}{{0,4}}{_MONTH_BEFORE}{_MONTH_WORD}{_YEAR_BEFORE}{_YEAR}",  # 17 Agustus 1985
            rf"(?<!\d)\d{{4}}{_S}{{0,4}}{_MONTH_WORD}{_S}{{0,4}}{_DAY}",  # 1985 Agustus 17
            # tgl 17 bln 8 thn 1985
            rf"(?:{_LETTER_BEFORE}(?:tanggal|tgl|tg)\.?{_S}{{0,3}})?{_DAY}{_S}{{0,3}}(?:bulan|bln|bl)\.?"
            rf"{_S}{{0,3}}\d{{1,2}}{_S}{{0,3}}(?:tahun|thn|th)\.?{_S}{{0,3}}(?:\d{{4}}|\d{{2}})(?!\d)",
            rf"(?<!\d)\d{{4}}{_S}{{1,4}}\d{{1,2}}(?!\d){_S}{{1,4}}{_DAY}",  # 1985-08-17
            rf"{_DAY}{_S}{{1,4}}\d{{1,2}}(?!\d){_S}{{1,4}}\d{{4}}(?!\d)",  # 17-08-1985, 17 8 1985
            # 17/8/85, one separator throughout ("08.00-12.00" is a time)
            r"(?<!\d)\d{1,2}\s*(?P<separator>[-/.\\_])\s*\d{1,2}\s*(?P=separator)\s*'?\d{2}(?!\d)",
            # 17 8 85
            r"(?P<spaced>(?<!\d)(?:0?[1-9]|[12]\d|3[01])\s{1,3}(?:0?[1-9]|1[0-2])\s{1,3}\d{2}(?!\d))",
            rf"(?<!\d)(?:{_COMPACT_DATE})(?!\d)",
        )
    ),
    re.IGNORECASE,
)
_MONTH_FIRST_DATE = re.compile(rf"{_MONTH_WORD}{_S}{{0,4}}{_DAY}{_YEAR}", re.IGNORECASE)  # Agustus 17, 1985


@dataclass(frozen=True)
class DigitChain:
    """One number as someone typed it: where it is, and its digits (ASCII)."""

    start: int
    end: int
    groups: tuple[str, ...]  # the digits of each group, ASCII

    @property
    def digits(self) -> str:
        return "".join(self.groups)


def _unit_digits(unit: re.Match[str]) -> str:
    word = unit.group("word")
    if word is not None:
        return DIGIT_WORDS[word.lower()]
    return "".join(_LOOKALIKE_DIGITS.get(character) or str(int(character)) for character in unit.group())


def _joins(text: str, end: int, start: int, links: list[tuple[int, int]]) -> bool:
    """Whether what lies between two groups makes them one number."""
    gap = text[end:start]
    if len(gap) > MAX_GAP or not _GAP.fullmatch(gap):
        return False
    if "/" not in gap:
        return True
    link = bisect.bisect_right(links, (end, len(text))) - 1
    return link < 0 or not links[link][0] <= end < links[link][1]


def digit_chains(text: str) -> list[DigitChain]:
    """Every number in ``text``, its groups joined however they were separated."""
    links = [link.span() for link in _URL.finditer(text)]
    chains: list[DigitChain] = []
    start = end = 0
    groups: list[str] = []
    in_words = False
    for unit in _UNIT.finditer(text):
        # Numerals and digit words make separate numbers: "enam 11" is no three-digit number.
        spelled = unit.group("word") is not None
        if groups and (spelled != in_words or not _joins(text, end, unit.start(), links)):
            chains.append(DigitChain(start, end, tuple(groups)))
            groups = []
        if not groups:
            start, in_words = unit.start(), spelled
        groups.append(_unit_digits(unit))
        end = unit.end()
    if groups:
        chains.append(DigitChain(start, end, tuple(groups)))
    return _with_split_niks(text, chains)


def looks_like_nik(digits: str) -> bool:
    """16 digits laid out as an NIK: region codes not 00, a day (+40 for women) and month of birth."""
    if len(digits) != NIK_DIGITS or not digits.isdigit() or digits[0] == "0":
        return False
    if "00" in (digits[2:4], digits[4:6]) or digits[12:] == "0000":
        return False
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > FEMALE_DAY_OFFSET:
        day -= FEMALE_DAY_OFFSET
    return 1 <= day <= 31 and 1 <= month <= 12


def _with_split_niks(text: str, chains: list[DigitChain]) -> list[DigitChain]:
    """Chains with a word or two between them joined where together they make an NIK."""
    merged: list[DigitChain] = []
    index = 0
    while index < len(chains):
        first = chains[index]
        taken = 1
        groups = first.groups
        # A phone number dialled in full (08..., 62 8...) is whole, not part of an NIK.
        whole = len(first.digits) >= NIK_DIGITS or _is_phone(first, _DIALLED_MOBILE)
        for later in chains[index + 1 :] if not whole else ():
            gap = text[chains[index + taken - 1].end : later.start]
            if len(gap) > MAX_WORD_GAP or not _WORD_GAP.fullmatch(gap) or _is_phone(later, _DIALLED_MOBILE):
                break
            groups = (*groups, *later.groups)
            digits = "".join(groups)
            if len(digits) >= NIK_DIGITS:
                # From the first group on; a digit word after it ("... 9001 three") may follow.
                if looks_like_nik(digits[:NIK_DIGITS]):
                    first = DigitChain(first.start, later.end, groups)
                    index += taken
                break
            taken += 1
        merged.append(first)
        index += 1
    return merged


def _is_phone(chain: DigitChain, start: re.Pattern[str] = _MOBILE_START) -> bool:
    return len(chain.digits) in PHONE_DIGITS and start.match(chain.digits) is not None


def _placeholder(text: str, chain: DigitChain) -> tuple[int, str] | None:
    """Where the redaction starts and what replaces the number, or None for an ordinary number."""
    count = len(chain.digits)
    if count >= NIK_DIGITS:
        return chain.start, NIK_PLACEHOLDER
    if _QUANTITIES.fullmatch(text, chain.start, chain.end):
        return None
    if len(chain.groups) >= _SPREAD_OUT and _COMPACT_DATE_NUMBER.fullmatch(chain.digits):
        return chain.start, DATE_PLACEHOLDER
    if _is_phone(chain):
        prefix = _PHONE_PREFIX.search(text, 0, chain.start)
        closed = prefix is not None and (prefix.group() != "(" or ")" in text[chain.start : chain.end])
        return (prefix.start() if prefix and closed else chain.start), PHONE_PLACEHOLDER
    if count >= MIN_NUMBER_DIGITS and not _years_and_small_numbers(chain.groups):
        return chain.start, NUMBER_PLACEHOLDER
    return None


def _years_and_small_numbers(groups: tuple[str, ...]) -> bool:
    """A reference or a list of years ("Fatwa 13/2021, 2022", "2021-2022, 2023"), not a secret number."""
    years = [group for group in groups if _YEAR_NUMBER.fullmatch(group)]
    return bool(years) and all(len(group) <= 2 for group in groups if group not in years)


def redact_numbers(text: str) -> str:
    """``text`` with NIKs, phone numbers and other long numbers replaced; ordinary numbers kept."""
    parts: list[str] = []
    done = 0
    for chain in digit_chains(text):
        found = _placeholder(text, chain)
        if found is None:
            continue
        start, placeholder = found
        parts += [text[done:start], placeholder]
        done = chain.end
    return "".join(parts) + text[done:]


def _is_a_list(found: re.Match[str]) -> bool:
    """Whether three numbers in a row count ("kelas 10 11 12") rather than date ("17 8 85")."""
    spaced = found.group("spaced")
    if spaced is None:
        return False
    day, month, year = (int(number) for number in spaced.split())
    return month == day + 1 and year == month + 1


def _dates_redacted(text: str) -> str:
    return _DAY_FIRST_DATE.sub(lambda found: found.group() if _is_a_list(found) else DATE_PLACEHOLDER, text)


def find_dates(text: str) -> list[str]:
    """Every full date in ``text`` as it was written."""
    found = [date.group() for date in _DAY_FIRST_DATE.finditer(text) if not _is_a_list(date)]
    return found + [date.group() for date in _MONTH_FIRST_DATE.finditer(_dates_redacted(text))]


def redact_dates(text: str) -> str:
    """``text`` with every full date replaced."""
    return _MONTH_FIRST_DATE.sub(DATE_PLACEHOLDER, _dates_redacted(text))


def redact_text(text: str) -> str:
    """``text`` with e-mail addresses, NIKs, phone and other long numbers, and dates replaced."""
    return redact_dates(redact_numbers(EMAIL_PATTERN.sub(EMAIL_PLACEHOLDER, text)))


def redact_message(text: str) -> str:
    """What a person sent, redacted; a message of nothing but numbers is hidden whole.

    On WhatsApp people send an NIK or a birth date a line at a time, each line a message of its own
    ("3174", "0517", ... or "17-08", "1985"). No such part says much alone, together they are the
    secret, and what is kept cannot be redacted later. A single menu choice ("2", "10") is kept.
    """
    redacted = redact_text(text)
    if _LETTER.search(text) is None and sum(character.isdigit() for character in redacted) >= _BARE_DIGITS:
        return NUMBER_PLACEHOLDER
    return redacted


def redact_code_answer(text: str) -> str:
    """A reply to "type the code": every number in it is the code or a try at it, however spelled.

    A 6-digit code is no NIK or date, so ``redact_message`` would keep "kodenya 123 456"; but a code
    still valid lets whoever reads the transcript finish someone's check. Any digit chain is hidden
    (also "12 34 56" or "satu dua tiga ...", which the form does not accept), the rest as any message.
    """
    parts: list[str] = []
    done = 0
    for chain in digit_chains(text):
        parts += [text[done : chain.start], CODE_PLACEHOLDER]
        done = chain.end
    return redact_message("".join(parts) + text[done:])


def redact_value(value: Any, redact: Callable[[str], str] = redact_text) -> Any:
    """Strings redacted by ``redact`` wherever they sit in a slot value or event data (lists, dicts)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(item, redact) for item in value]
    if isinstance(value, dict):
        return {key: redact_value(item, redact) for key, item in value.items()}
    return value
