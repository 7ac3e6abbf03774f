"""Danger signs in what people write about a side effect: the emergency advice depends on them."""

from __future__ import annotations

import pytest

from core.kipi import danger_signs, is_severe, severity_of


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("anak saya kejang setelah vaksin", "kejang"),
        ("anak sy step tadi malam", "kejang"),
        ("ibu saya sesak napas habis disuntik", "sesak napas"),
        ("susah nafas dan dada sakit", "sesak napas"),
        ("my son has shortness of breath", "sesak napas"),
        ("tadi pingsan di puskesmas", "pingsan"),
        ("bapak gak sadar dari tadi", "tidak sadar"),
        ("wajahnya bengkak setelah vaksin", "bengkak wajah atau bibir"),
        ("bengkak di bibir", "bengkak wajah atau bibir"),
        ("biduran seluruh tubuh", "biduran seluruh tubuh"),
        ("gatal-gatal di sekujur badan", "biduran seluruh tubuh"),
        ("nyeri dada sejak pagi", "nyeri dada"),
        ("demam 40 derajat", "demam 40 °C atau lebih"),
        ("panasnya 40,5", "demam 40 °C atau lebih"),
        ("suhu 41 C", "demam 40 °C atau lebih"),
        ("demam 2 hari, tadi 40.2°C", "demam 40 °C atau lebih"),
        ("ANAK SAYA KEJANG2", "kejang"),
    ],
)
def test_danger_signs_are_found(text: str, sign: str) -> None:
    assert sign in danger_signs(text)
    assert is_severe(text)


@pytest.mark.parametrize(
    "text",
    [
        "demam ringan dan pegal di lengan",
        "demam 38,5 sejak semalam",
        "tidak sesak napas, cuma pusing",
        "gak kejang kok, cuma rewel",
        "bengkak di bekas suntikan",
        "gatal di lengan",
        "",
        "😢😢",
        "a" * 10_000,
        "ruam merah kecil di tangan",
    ],
)
def test_mild_complaints_and_negations_are_not_danger_signs(text: str) -> None:
    assert danger_signs(text) == ()
    assert not is_severe(text)


def test_several_signs_are_all_named_in_a_fixed_order() -> None:
    assert danger_signs("pingsan lalu kejang") == ("kejang", "pingsan")


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Ringan", "ringan"),
        ("SEDANG", "sedang"),
        ("berat!", "berat"),
        ("3", "berat"),
        ("parah banget", "berat"),
        ("lumayan", "sedang"),
        ("biasa aja", "ringan"),
        ("entahlah", None),
        ("", None),
    ],
)
def test_severity_is_read_from_a_tap_or_words(text: str, severity: str | None) -> None:
    assert severity_of(text) == severity
