"""Reading and checking an NIK (Nomor Induk Kependudukan, the 16-digit national ID).

Pure functions, shared by the CSV import and by anything that reads what people type. Layout:
``PP KK CC DDMMYY SSSS`` - province, regency, district, birth date (day + 40 for women) and a
serial that is never 0000. Messages for people are Indonesian and never repeat the digits they
sent, because bot replies are stored with the conversation.

What counts as one number in a message (groups joined by spaces, dots, dashes, slashes, commas,
line breaks, digit words) is core/personal_data.py's ``digit_chains``: the same reading the
redaction uses, so every NIK the tracker store hides is also one the schedule form accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from core.personal_data import FEMALE_DAY_OFFSET, NIK_DIGITS, digit_chains
from core.regions import is_province_code

NIK_LENGTH = NIK_DIGITS


class Sex(str, Enum):
    """Sex as written on the KTP; it decides whether 40 is added to the day in the NIK."""

    MALE = "L"  # laki-laki
    FEMALE = "P"  # perempuan


class NikProblem(str, Enum):
    NO_NUMBER = "no_number"
    AMBIGUOUS = "ambiguous"
    WRONG_LENGTH = "wrong_length"
    NOT_DIGITS = "not_digits"
    UNKNOWN_PROVINCE = "unknown_province"
    INVALID_REGENCY = "invalid_regency"
    INVALID_DISTRICT = "invalid_district"
    INVALID_BIRTH_DATE = "invalid_birth_date"
    INVALID_SERIAL = "invalid_serial"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    SEX_MISMATCH = "sex_mismatch"


_CHECK_KTP = "Mohon periksa kembali NIK di KTP atau Kartu Keluarga Anda."

_MESSAGES: dict[NikProblem, tuple[str, str]] = {
    # problem: (Indonesian message for the person, English detail for operators)
    NikProblem.NO_NUMBER: (
        "Saya tidak menemukan NIK di pesan Anda. NIK adalah 16 angka yang tertera di KTP "
        "atau Kartu Keluarga.",
        "no number found",
    ),
    NikProblem.AMBIGUOUS: (
        "Ada lebih dari satu nomor 16 angka di pesan Anda. Mohon kirim satu NIK saja.",
        "more than one 16-digit number",
    ),
    NikProblem.NOT_DIGITS: (
        "NIK hanya boleh berisi 16 angka, tanpa huruf atau tanda baca.",
        "contains characters other than digits",
    ),
    NikProblem.UNKNOWN_PROVINCE: (
        f"NIK tidak valid: 2 angka pertama (kode provinsi) tidak dikenal. {_CHECK_KTP}",
        "digits 1-2 are not a province code",
    ),
    NikProblem.INVALID_REGENCY: (
        f"NIK tidak valid: angka ke-3 dan ke-4 (kode kabupaten/kota) tidak boleh 00. {_CHECK_KTP}",
        "digits 3-4 (regency) are 00",
    ),
    NikProblem.INVALID_DISTRICT: (
        f"NIK tidak valid: angka ke-5 dan ke-6 (kode kecamatan) tidak boleh 00. {_CHECK_KTP}",
        "digits 5-6 (district) are 00",
    ),
    NikProblem.INVALID_BIRTH_DATE: (
        f"NIK tidak valid: angka ke-7 sampai ke-12 harus berisi tanggal lahir. {_CHECK_KTP}",
        "digits 7-12 are not a date (DDMMYY, day + 40 for women)",
    ),
    NikProblem.INVALID_SERIAL: (
        f"NIK tidak valid: 4 angka terakhir tidak boleh 0000. {_CHECK_KTP}",
        "digits 13-16 (serial) are 0000",
    ),
    NikProblem.BIRTH_DATE_MISMATCH: (
        "Tanggal lahir tidak sesuai dengan NIK (angka ke-7 sampai ke-12 NIK memuat tanggal lahir). "
        "Mohon periksa kembali.",
        "birth date does not match digits 7-12",
    ),
    NikProblem.SEX_MISMATCH: (
        "Jenis kelamin tidak sesuai dengan NIK (untuk perempuan, tanggal lahir di NIK ditambah 40). "
        "Mohon periksa kembali.",
        "sex does not match the day in digits 7-8 (women: day + 40)",
    ),
}


@dataclass(frozen=True)
class NikRejection:
    """Why a text is not a usable NIK."""

    problem: NikProblem
    message: str  # Indonesian, safe to show the person (repeats none of their digits)
    detail: str  # English, for operators; also repeats no digits


def _reject(problem: NikProblem) -> NikRejection:
    message, detail = _MESSAGES[problem]
    return NikRejection(problem, message, detail)


def _wrong_length(count: int) -> NikRejection:
    return NikRejection(
        NikProblem.WRONG_LENGTH,
        f"NIK harus {NIK_LENGTH} angka, yang Anda kirim {count} angka.",
        f"{count} digits instead of {NIK_LENGTH}",
    )


@dataclass(frozen=True)
class Nik:
    """A structurally valid NIK and what its digits say."""

    digits: str

    @property
    def province_code(self) -> str:
        return self.digits[0:2]

    @property
    def region_code(self) -> str:
        """Province, regency and district: the first six digits."""
        return self.digits[0:6]

    @property
    def sex(self) -> Sex:
        return Sex.FEMALE if int(self.digits[6:8]) > FEMALE_DAY_OFFSET else Sex.MALE

    @property
    def birth_day(self) -> int:
        day = int(self.digits[6:8])
        return day - FEMALE_DAY_OFFSET if day > FEMALE_DAY_OFFSET else day

    @property
    def birth_month(self) -> int:
        return int(self.digits[8:10])

    @property
    def birth_year_two_digits(self) -> int:
        return int(self.digits[10:12])

    @property
    def serial(self) -> str:
        return self.digits[12:16]


def find_nik(text: str) -> str | NikRejection:
    """The 16 digits in what someone typed, its groups separated however they are (``digit_chains``)."""
    candidates: list[str] = []
    longest = 0
    for chain in digit_chains(text):
        groups = list(chain.groups)
        total = len(chain.digits)
        longest = max(longest, total)
        if total == NIK_LENGTH:
            candidates.append("".join(groups))
        elif total > NIK_LENGTH:
            # "3174051708859001 17 08 1985": the NIK is one stretch of the groups.
            candidates.extend(_sixteen_digit_windows(groups))
    distinct = list(dict.fromkeys(candidates))
    if len(distinct) == 1:
        return distinct[0]
    if len(distinct) > 1:
        return _reject(NikProblem.AMBIGUOUS)
    if longest == 0:
        return _reject(NikProblem.NO_NUMBER)
    return _wrong_length(longest)


def _sixteen_digit_windows(groups: list[str]) -> list[str]:
    windows = []
    for start in range(len(groups)):
        length = 0
        for end in range(start, len(groups)):
            length += len(groups[end])
            if length == NIK_LENGTH:
                windows.append("".join(groups[start : end + 1]))
            if length >= NIK_LENGTH:
                break
    return windows


def validate_nik(digits: str) -> Nik | NikRejection:
    """Check the structure of a stored or imported NIK: exactly 16 digits, nothing else."""
    if not (digits.isascii() and digits.isdigit()):
        return _reject(NikProblem.NOT_DIGITS)
    if len(digits) != NIK_LENGTH:
        return _wrong_length(len(digits))
    if not is_province_code(digits[0:2]):
        return _reject(NikProblem.UNKNOWN_PROVINCE)
    if digits[2:4] == "00":
        return _reject(NikProblem.INVALID_REGENCY)
    if digits[4:6] == "00":
        return _reject(NikProblem.INVALID_DISTRICT)
    if not _is_encoded_birth_date(digits[6:12]):
        return _reject(NikProblem.INVALID_BIRTH_DATE)
    if digits[12:16] == "0000":
        return _reject(NikProblem.INVALID_SERIAL)
    return Nik(digits)


def parse_nik(text: str) -> Nik | NikRejection:
    """What someone typed, as a checked NIK or the first reason it is not one."""
    found = find_nik(text)
    return found if isinstance(found, NikRejection) else validate_nik(found)


def check_nik_matches(nik: Nik, birth_date: date, sex: Sex | None = None) -> NikRejection | None:
    """None when the birth date (and sex, if given) agree with what the NIK encodes."""
    if (nik.birth_day, nik.birth_month, nik.birth_year_two_digits) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        return _reject(NikProblem.BIRTH_DATE_MISMATCH)
    if sex is not None and sex != nik.sex:
        return _reject(NikProblem.SEX_MISMATCH)
    return None


def build_nik(region_code: str, birth_date: date, sex: Sex, serial: int) -> str:
    """The NIK for a region, birth date, sex and serial (used to make demo and test data)."""
    if not (len(region_code) == 6 and region_code.isdigit()):
        raise ValueError("region_code must be 6 digits")
    if not 1 <= serial <= 9999:
        raise ValueError("serial must be 1..9999")
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex is Sex.FEMALE else 0)
    digits = f"{region_code}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
    checked = validate_nik(digits)
    if isinstance(checked, NikRejection):
        raise ValueError(checked.detail)
    return digits


def _is_encoded_birth_date(ddmmyy: str) -> bool:
    day, month, year = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    if day > FEMALE_DAY_OFFSET:
        day -= FEMALE_DAY_OFFSET
    for century in (1900, 2000):  # 29 Feb "00" exists in 2000 only; either century will do
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False
