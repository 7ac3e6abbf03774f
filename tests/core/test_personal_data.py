"""Personal data is redacted by meaning: every spelling people use, and nothing else.

Runs in both environments (the tracker store redacts on Python 3.10, the review app on 3.11); the
generated variants are in test_personal_data_properties.py (actions environment: hypothesis).
"""

from __future__ import annotations

import time

import pytest

from core.months import MONTH_NAMES, MONTHS
from core.personal_data import (
    CODE_PLACEHOLDER,
    DATE_PLACEHOLDER,
    NIK_PLACEHOLDER,
    NUMBER_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    PLACEHOLDER_PATTERN,
    digit_chains,
    looks_like_nik,
    redact_code_answer,
    redact_message,
    redact_text,
    redact_value,
)

NIK_SPELLINGS = (
    "3174051708859001",
    "3174 0517 0885 9001",
    "3174-0517-0885-9001",
    "3174.0517.0885.9001",
    "3174/0517/0885/9001",
    "3174, 0517, 0885, 9001",
    "3174,0517,0885,9001",
    "3174 / 0517 / 0885 / 9001",
    "3174\n0517\n0885\n9001",
    "3174\r\n0517\r\n0885\r\n9001",
    "3174 \n 0517 \n 0885 \n 9001",
    "317405 170885 9001",
    "31 74 05 17 08 85 90 01",
    "3174\u00a00517\u00a00885\u00a09001",
    "3174\u200b0517\u200b0885\u200b9001",  # zero-width spaces
    "3174 0517 eh 0885 9001",  # a word in the middle
    "3174 0517 08859001",
    "3174 O517 0885 9OO1",  # the letter O for a zero
    "".join(chr(0xFF10 + int(digit)) for digit in "3174051708859001"),  # full-width digits
    "tiga satu tujuh empat nol lima satu tujuh nol delapan delapan lima sembilan nol nol satu",
    "31740517088590011",  # one digit too many: a mistake is as personal as the truth
)
DATE_SPELLINGS = (
    "17-08-1985",
    "17/8/85",
    "17/08/1985",
    "17.08.1985",
    "17 - 08 - 1985",
    "17 08 1985",
    "17\n08\n1985",
    "1985-08-17",
    "1985/8/17",
    "17081985",
    "170885",
    "19850817",
    "17 Agustus 1985",
    "17 agustus 1985",
    "17 AGUSTUS 1985",
    "17agustus1985",
    "17 agt 85",
    "17 AGT. 85",
    "17 ags '85",
    "17-Agu-1985",
    "17-Agustus-1985",
    "17/agt/1985",
    "Agustus 17, 1985",
    "agustus 17 1985",
    "August 17, 1985",
    "August 17th, 1985",
    "17th of August 1985",
    "17 8 85",
    "17 August 1985",
    "1985 Agustus 17",
    "17\nAgustus\n1985",
    "tgl 17 bln 8 thn 1985",
    "17 bulan agustus tahun 1985",
    "17/VIII/1985",
    "17-XII-85",
    "1 7 0 8 1 9 8 5",  # digit by digit
    "31-02-1985",  # impossible, still what someone typed
)
PHONE_SPELLINGS = (
    "081234567890",
    "0812-3456-7890",
    "0812 3456 7890",
    "0812.3456.7890",
    "(0812) 3456 7890",
    "+62 812 3456 7890",
    "+62-812-3456-7890",
    "+6281234567890",
    "6281234567890",
    "081234567",  # a short mobile
)
ORDINARY = (
    "vaksin bayar ga?",
    "dosis 2",
    "dosis 1 ke 2 berapa lama",
    "umur 60 tahun",
    "anak umur 12 tahun boleh vaksin?",
    "3 bulan",
    "booster antara 3-6 bulan",
    "jarak 28 hari",
    "vaksin 19 maret",  # a day without a year is no birth date
    "lahir bulan agustus",
    "jam 08.30",
    "jadwal saya jam 09.00",
    "jam 08.00-12.00, 13.00",
    "biaya Rp150.000",
    "Rp 1.500.000 - 2.500.000",
    "Rp 1.500.000.000",
    "hubungi 119 ext 9",
    "booster ke-3 tahun 2022",
    "dosis 1 2021 dosis 2 2022",
    "Fatwa MUI 13/2021, 2022",
    "satu dua tiga",
    "kelas 10 11 12 boleh vaksin?",
    "covid19 varian ba.2.75",
    '/faq_choice{"topic":"booster"}',
    "[NIK] dan [TANGGAL] sudah disamarkan",
)


@pytest.mark.parametrize("nik", NIK_SPELLINGS)
def test_an_nik_is_redacted_however_it_is_written(nik: str) -> None:
    assert redact_text(f"nik saya {nik} ya") == f"nik saya {NIK_PLACEHOLDER} ya"


def test_an_nik_glued_to_words_is_redacted() -> None:
    assert redact_text("nik3174051708859001ya") == f"nik{NIK_PLACEHOLDER}ya"


@pytest.mark.parametrize("birth_date", DATE_SPELLINGS)
def test_a_date_is_redacted_however_it_is_written(birth_date: str) -> None:
    assert redact_text(f"lahir {birth_date}.") == f"lahir {DATE_PLACEHOLDER}."


@pytest.mark.parametrize("phone", PHONE_SPELLINGS)
def test_a_phone_number_is_redacted_however_it_is_written(phone: str) -> None:
    assert redact_text(f"hp {phone} ya") == f"hp {PHONE_PLACEHOLDER} ya"


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_an_nik_a_birth_date_and_a_phone_number_in_one_message() -> None:
    said = "NIK 3174 0517 0885 9001, lahir 17agustus1985, hp +62 812-3456-7890, email budi@contoh.co.id"
    assert redact_text(said) == "NIK [NIK], lahir [TANGGAL], hp [TELEPON], email [EMAIL]"


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("3174", "[NOMOR]"),  # an NIK sent a group at a time, each group a message
        ("0517\n", "[NOMOR]"),
        ("17-08", "[NOMOR]"),  # a birth date sent in two messages
        ("1985", "[NOMOR]"),
        ("17-08-1985", DATE_PLACEHOLDER),
        ("2", "2"),  # a menu choice
        ("10", "10"),
        ("no. 2", "no. 2"),
        ("umur 60", "umur 60"),
        ('/faq_choice{"topic":"biaya"}', '/faq_choice{"topic":"biaya"}'),
    ],
)
def test_a_message_of_nothing_but_numbers_is_hidden_whole(message: str, kept: str) -> None:
    assert redact_message(message) == kept


def test_other_long_numbers_are_redacted() -> None:
    assert redact_text("kode 1234567890123") == f"kode {NUMBER_PLACEHOLDER}"
    assert redact_text("021-1500-5670") == NUMBER_PLACEHOLDER  # a landline with its area code


def test_a_link_keeps_its_path() -> None:
    link = "https://news.example.com/read/2021/02/15/500/1063768/vaksin"
    assert redact_text(link) == "https://news.example.com/read/[TANGGAL]/500/1063768/vaksin"
    assert redact_text("https://x.example/?nik=3174051708859001") == "https://x.example/?nik=[NIK]"


def test_every_month_word_is_redacted_in_a_date() -> None:
    for word in MONTHS:
        for spelled in (word, word.upper(), word.title()):
            assert redact_text(f"5 {spelled} 1990") == DATE_PLACEHOLDER, spelled
            assert redact_text(f"5{spelled}90") == DATE_PLACEHOLDER, spelled
            assert redact_text(f"{spelled} 5, 1990") == DATE_PLACEHOLDER, spelled


def test_the_month_table_reads_every_month_name_the_assistant_writes() -> None:
    assert [MONTHS[name.lower()] for name in MONTH_NAMES] == list(range(1, 13))
    assert set(MONTHS.values()) == set(range(1, 13))


def test_values_are_redacted_wherever_they_sit() -> None:
    value = {"a": ["0812-3456-7890", 3, None], "b": "ok", "c": {"nik": "3174/0517/0885/9001"}}
    assert redact_value(value) == {
        "a": [PHONE_PLACEHOLDER, 3, None],
        "b": "ok",
        "c": {"nik": NIK_PLACEHOLDER},
    }


def test_digit_chains_read_what_a_person_reads() -> None:
    chains = digit_chains("nik: 3174 / 0517\n0885, 9001 dan umur 60")
    assert [chain.digits for chain in chains] == ["3174051708859001", "60"]
    assert looks_like_nik(chains[0].digits)
    assert not looks_like_nik("2021202220232024")  # four years are no NIK


@pytest.mark.parametrize(
    "hostile",
    [
        "1 " * 25_000,
        "1-" * 25_000,
        "3" * 50_000,
        "a." * 25_000 + "@",
        "17 agustus " * 5_000,
        "www.1/ " * 7_000,
        "\u200b1" * 25_000,
        "satu " * 10_000,
    ],
)
def test_long_hostile_text_is_redacted_in_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    redact_text(hostile)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("482913", CODE_PLACEHOLDER),
        ("kodenya 482 913", f"kodenya {CODE_PLACEHOLDER}"),
        ("ini 482-913 ya", f"ini {CODE_PLACEHOLDER} ya"),
        ("48 29 13", CODE_PLACEHOLDER),
        ("empat delapan dua sembilan satu tiga", CODE_PLACEHOLDER),
        ("kode 482913, NIK 3174051708859001", f"kode {CODE_PLACEHOLDER}, NIK {CODE_PLACEHOLDER}"),
        ("belum dapat kodenya", "belum dapat kodenya"),
        ("lahir 17 Agustus 1985 kan", f"lahir {CODE_PLACEHOLDER} Agustus {CODE_PLACEHOLDER} kan"),
    ],
)
def test_an_answer_to_the_code_question_keeps_no_number(said: str, stored: str) -> None:
    """A 6-digit code is no NIK or date: only the question it answers says it is a secret."""
    assert redact_code_answer(said) == stored
    assert redact_message("kodenya 482 913") == "kodenya 482 913"  # elsewhere, six digits are kept
    assert PLACEHOLDER_PATTERN.search(redact_code_answer("kode 482913"))
