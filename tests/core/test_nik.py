from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.nik import (
    Nik,
    NikProblem,
    NikRejection,
    Sex,
    build_nik,
    check_nik_matches,
    find_nik,
    parse_nik,
    validate_nik,
)
from core.personal_data import NIK_PLACEHOLDER, redact_message
from core.regions import PROVINCES
from tests.core.test_personal_data_properties import SEPARATORS, in_a_sentence

MAN = "3174051708859001"  # Jakarta Selatan, born 17-08-1985, serial 9001
WOMAN = "3273015203909003"  # Bandung, born 12-03-1990: day 12 + 40 = 52


def problem_of(result: object) -> NikProblem:
    assert isinstance(result, NikRejection), result
    return result.problem


@pytest.mark.parametrize(
    "typed",
    [
        "3174051708859001",
        "3174 0517 0885 9001",
        "3174-0517-0885-9001",
        "3174.0517.0885.9001",
        "NIK saya 3174051708859001",
        "nik: 3174 0517 0885 9001 ya kak",
        "  3174051708859001\n",
        "3174051708859001 lahir 17 08 1985",
        "lahir 17-08-1985, NIK 3174051708859001",
        "3174051708859001 3174051708859001",
    ],
)
def test_finds_the_sixteen_digits_in_what_people_type(typed: str) -> None:
    assert find_nik(typed) == MAN


def test_the_issue_examples_are_read_as_sixteen_digits() -> None:
    # The issue's examples; their digits 9-10 are "34", not a month, so they are not a valid NIK.
    assert find_nik("3174 0512 3456 0001") == "3174051234560001"
    assert find_nik("NIK saya 3174051234560001") == "3174051234560001"
    assert problem_of(parse_nik("NIK saya 3174051234560001")) is NikProblem.INVALID_BIRTH_DATE


def test_wrong_length_says_how_many_digits_were_sent() -> None:
    rejection = find_nik("NIK saya 317405170885900")
    assert isinstance(rejection, NikRejection)
    assert rejection.problem is NikProblem.WRONG_LENGTH
    assert rejection.message == "NIK harus 16 angka, yang Anda kirim 15 angka."


def test_too_many_digits() -> None:
    rejection = find_nik("31740517088590011")
    assert isinstance(rejection, NikRejection)
    assert rejection.message == "NIK harus 16 angka, yang Anda kirim 17 angka."


def test_spaced_groups_that_add_up_to_the_wrong_length() -> None:
    rejection = find_nik("3174 0517 0885 900")
    assert isinstance(rejection, NikRejection)
    assert rejection.message == "NIK harus 16 angka, yang Anda kirim 15 angka."


def test_no_number_at_all() -> None:
    assert problem_of(find_nik("jadwal vaksin saya kapan?")) is NikProblem.NO_NUMBER


def test_two_different_niks_are_ambiguous() -> None:
    assert problem_of(find_nik("3174051708859001 atau 3273015203909003")) is NikProblem.AMBIGUOUS


def test_valid_nik_and_what_it_says() -> None:
    nik = validate_nik(MAN)
    assert isinstance(nik, Nik)
    assert nik.province_code == "31"
    assert nik.region_code == "317405"
    assert (nik.birth_day, nik.birth_month, nik.birth_year_two_digits) == (17, 8, 85)
    assert nik.sex is Sex.MALE
    assert nik.serial == "9001"


def test_women_have_forty_added_to_the_day() -> None:
    nik = validate_nik(WOMAN)
    assert isinstance(nik, Nik)
    assert nik.sex is Sex.FEMALE
    assert nik.birth_day == 12


@pytest.mark.parametrize(
    ("digits", "problem"),
    [
        ("1074051708859001", NikProblem.UNKNOWN_PROVINCE),  # 10 is not a province
        ("2074051708859001", NikProblem.UNKNOWN_PROVINCE),
        ("9974051708859001", NikProblem.UNKNOWN_PROVINCE),
        ("3100051708859001", NikProblem.INVALID_REGENCY),
        ("3174001708859001", NikProblem.INVALID_DISTRICT),
        ("3174050008859001", NikProblem.INVALID_BIRTH_DATE),  # day 00
        ("3174053208859001", NikProblem.INVALID_BIRTH_DATE),  # day 32: neither a man's nor a woman's day
        ("3174054008859001", NikProblem.INVALID_BIRTH_DATE),  # day 40
        ("3174057208859001", NikProblem.INVALID_BIRTH_DATE),  # day 72 = 32 + 40
        ("3174051713859001", NikProblem.INVALID_BIRTH_DATE),  # month 13
        ("3174051700859001", NikProblem.INVALID_BIRTH_DATE),  # month 00
        ("3174053102859001", NikProblem.INVALID_BIRTH_DATE),  # 31 February
        ("3174052902859001", NikProblem.INVALID_BIRTH_DATE),  # 29 February 1985 or 2085: no such day
        ("3174051708850000", NikProblem.INVALID_SERIAL),
        ("317405170885900", NikProblem.WRONG_LENGTH),
        ("3174-0517-0885-9001", NikProblem.NOT_DIGITS),
        ("３１７４０５１７０８８５９００１", NikProblem.NOT_DIGITS),  # full-width digits
    ],
)
def test_structure_problems(digits: str, problem: NikProblem) -> None:
    assert problem_of(validate_nik(digits)) is problem


def test_leap_days_that_exist_in_one_century_are_valid() -> None:
    assert isinstance(validate_nik("3174052902009001"), Nik)  # 29-02-2000
    assert isinstance(validate_nik("3174056902049001"), Nik)  # woman, 29-02-2004


def test_every_province_code_is_accepted() -> None:
    for code in PROVINCES:
        assert isinstance(validate_nik(f"{code}74051708859001"), Nik), code


def test_messages_are_indonesian_and_repeat_no_digits() -> None:
    for digits in ("1074051708859001", "3174053208859001", "3174051708850000", "3100051708859001"):
        rejection = validate_nik(digits)
        assert isinstance(rejection, NikRejection)
        assert "NIK" in rejection.message
        assert re.search(r"[0-9]{5,}", rejection.message) is None
        assert re.search(r"[0-9]{5,}", rejection.detail) is None


def test_consistent_with_birth_date_and_sex() -> None:
    man, woman = validate_nik(MAN), validate_nik(WOMAN)
    assert isinstance(man, Nik) and isinstance(woman, Nik)
    assert check_nik_matches(man, date(1985, 8, 17), Sex.MALE) is None
    assert check_nik_matches(man, date(1985, 8, 17)) is None
    assert check_nik_matches(woman, date(1990, 3, 12), Sex.FEMALE) is None
    assert check_nik_matches(man, date(2085, 8, 17), Sex.MALE) is None  # only two year digits


@pytest.mark.parametrize(
    ("birth_date", "sex", "problem"),
    [
        (date(1985, 8, 18), Sex.MALE, NikProblem.BIRTH_DATE_MISMATCH),
        (date(1985, 7, 17), Sex.MALE, NikProblem.BIRTH_DATE_MISMATCH),
        (date(1986, 8, 17), Sex.MALE, NikProblem.BIRTH_DATE_MISMATCH),
        (date(1985, 8, 17), Sex.FEMALE, NikProblem.SEX_MISMATCH),
    ],
)
def test_inconsistent_with_birth_date_or_sex(birth_date: date, sex: Sex, problem: NikProblem) -> None:
    nik = validate_nik(MAN)
    assert isinstance(nik, Nik)
    assert problem_of(check_nik_matches(nik, birth_date, sex)) is problem


def test_a_woman_whose_nik_lacks_the_forty_does_not_match() -> None:
    nik = validate_nik("3273011203909003")  # day 12 without +40 reads as a man
    assert isinstance(nik, Nik)
    rejection = check_nik_matches(nik, date(1990, 3, 12), Sex.FEMALE)
    assert isinstance(rejection, NikRejection)
    assert rejection.problem is NikProblem.SEX_MISMATCH
    assert "40" in rejection.message


def test_parse_combines_finding_and_checking() -> None:
    parsed = parse_nik("NIK saya 3273 0152 0390 9003")
    assert isinstance(parsed, Nik)
    assert parsed.digits == WOMAN
    assert problem_of(parse_nik("NIK saya 3274")) is NikProblem.WRONG_LENGTH


def test_build_nik_round_trips() -> None:
    assert build_nik("317405", date(1985, 8, 17), Sex.MALE, 9001) == MAN
    assert build_nik("327301", date(1990, 3, 12), Sex.FEMALE, 9003) == WOMAN
    with pytest.raises(ValueError):
        build_nik("107405", date(1985, 8, 17), Sex.MALE, 1)
    with pytest.raises(ValueError):
        build_nik("317405", date(1985, 8, 17), Sex.MALE, 0)


@pytest.mark.parametrize(
    "typed",
    [
        "3174/0517/0885/9001",
        "3174, 0517, 0885, 9001",
        "3174\n0517\n0885\n9001",
        "3174 / 0517 / 0885 / 9001",
        "3174 0517 eh 0885 9001",
        "tiga satu tujuh empat nol lima satu tujuh nol delapan delapan lima sembilan nol nol satu",
    ],
)
def test_the_spellings_redaction_hides_are_read_too(typed: str) -> None:
    """Issue #11: these were hidden in the tracker, yet the form said it found no NIK in them."""
    assert NIK_PLACEHOLDER in redact_message(typed) or redact_message(typed) == "[NOMOR]"
    assert find_nik(typed) == MAN


@st.composite
def spelled_niks(draw: st.DrawFn) -> tuple[str, str]:
    """A well-formed NIK, its groups cut anywhere and joined by any separator, inside a sentence."""
    day = draw(st.integers(min_value=1, max_value=28)) + draw(st.sampled_from([0, 40]))
    region = f"{draw(st.integers(11, 94))}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 99)):02d}"
    digits = f"{region}{day:02d}{draw(st.integers(1, 12)):02d}{draw(st.integers(0, 99)):02d}"
    digits += f"{draw(st.integers(1, 9999)):04d}"
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=15), max_size=15)))
    groups = [digits[start:end] for start, end in zip([0, *cuts], [*cuts, 16], strict=True)]
    parts = [groups[0]]
    for group in groups[1:]:
        parts += [draw(st.sampled_from(SEPARATORS)), group]
    return digits, in_a_sentence(draw, "".join(parts))


@settings(max_examples=300, deadline=None)  # correctness, not speed: a shared machine stalls
@given(spelled_niks())
def test_every_nik_the_redaction_hides_the_form_reads(spelled: tuple[str, str]) -> None:
    digits, text = spelled
    assert NIK_PLACEHOLDER in redact_message(text)
    assert find_nik(text) == digits
