"""Personal data is masked out of what reviewers see."""

from __future__ import annotations

import pytest

from core.months import MONTHS
from services.review.masking import mask_personal_data, mask_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NIK saya 3174051708859001 ya", "NIK saya [NIK] ya"),
        ("3174 0517 0885 9001", "[NIK]"),
        ("3174.0517.0885.9001", "[NIK]"),
        ("3174-0517-0885-9001", "[NIK]"),
        ("hp 081234567890", "hp [TELEPON]"),
        ("0812-3456-7890", "[TELEPON]"),
        ("(0812) 3456 7890", "[TELEPON]"),
        ("+62 812 3456 7890", "[TELEPON]"),
        ("+6281234567890", "[TELEPON]"),
        ("6281234567890", "[TELEPON]"),
        ("lahir 17 agustus 1985", "lahir [TANGGAL]"),
        ("17 Agt 85", "[TANGGAL]"),
        ("17-agt-1985", "[TANGGAL]"),
        ("17 Nopember 1990", "[TANGGAL]"),
        ("August 17, 1985", "[TANGGAL]"),
        ("17-08-1985", "[TANGGAL]"),
        ("17/8/85", "[TANGGAL]"),
        ("1985-08-17", "[TANGGAL]"),
        ("17 08 1985", "[TANGGAL]"),
        ("17081985", "[TANGGAL]"),
        ("email budi.santoso@example.co.id ya", "email [EMAIL] ya"),
        ("kode 1234567890123", "kode [NOMOR]"),
        ("[NIK] dan [TANGGAL] sudah disamarkan", "[NIK] dan [TANGGAL] sudah disamarkan"),
        # spellings that were shown unmasked before (issue #11, item 5)
        ("nik 3174/0517/0885/9001", "nik [NIK]"),
        ("3174, 0517, 0885, 9001", "[NIK]"),
        ("3174\n0517\n0885\n9001", "[NIK]"),
        ("lahir Agustus 17, 1985", "lahir [TANGGAL]"),
        # what a recipient typed (issue #12, item 4)
        ("kemarin tgl 12/03/1980", "kemarin tgl [TANGGAL]"),
        ("lahir 17agustus1985", "lahir [TANGGAL]"),
    ],
)
def test_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "dosis 2 tanggal 3",
        "umur 45 tahun",
        "jarak 28 hari",
        "booster antara 3-6 bulan",
        "vaksin 19 maret",  # a day without a year is no birth date
        "jam 08.30",
        "biaya Rp150.000",
        "telepon 119 ext 9",
        "booster ke-3 tahun 2022",
        '/faq_choice{"topic":"booster"}',
    ],
)
def test_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_none_and_structures() -> None:
    assert mask_personal_data(None) == ""
    assert mask_value({"a": ["0812-3456-7890", 3, None], "b": "ok"}) == {
        "a": ["[TELEPON]", 3, None],
        "b": "ok",
    }


def test_every_month_word_is_masked() -> None:
    """The schedule check reads months from the same table (core/months.py)."""
    for word in MONTHS:
        assert mask_personal_data(f"lahir 5 {word} 1990") == "lahir [TANGGAL]", word
