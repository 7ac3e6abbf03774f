"""Option numbers and menu words: what MenuShortcuts answers and the review inbox leaves out."""

from __future__ import annotations

import pytest

from core.menu_words import is_menu_word, is_opt_in, is_opt_out, option_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        (" 10 ", 10),
        ("2.", 2),
        ("(3)", 3),
        ("no 2", 2),
        ("No. 4", 4),
        ("nomor 1", 1),
        ("pilih 3", 3),
        ("pilihan no. 2", 2),
        ("opsi 2", 2),
        ("#5", 5),
    ],
)
def test_option_numbers_are_recognised(text: str, number: int) -> None:
    assert option_number(text) == number


@pytest.mark.parametrize(
    "text",
    ["dosis 2 kapan", "booster ke 3", "3273015203909003", "100", "2 dosis", "21-04-1990", "menu", "no"],
)
def test_numbers_inside_questions_are_left_alone(text: str) -> None:
    assert option_number(text) is None


@pytest.mark.parametrize(
    "text", ["menu", "Menu!", "menu utama", "KEMBALI", "balik", "back", "kembali ke menu"]
)
def test_menu_words(text: str) -> None:
    assert is_menu_word(text)


@pytest.mark.parametrize("text", ["menu vaksin apa aja", "kembali lagi minggu depan boleh?"])
def test_menu_words_inside_questions_are_left_alone(text: str) -> None:
    assert not is_menu_word(text)


@pytest.mark.parametrize(
    "text", ["Berhenti", "STOP", "stop.", "unsubscribe", "Jangan kirim lagi!", "berhenti  langganan"]
)
def test_opt_out_words_are_recognised(text: str) -> None:
    assert is_opt_out(text)
    assert not is_opt_in(text)


@pytest.mark.parametrize("text", ["MULAI", "start", "Langganan lagi"])
def test_opt_in_words_are_recognised(text: str) -> None:
    assert is_opt_in(text)
    assert not is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["kapan berhenti demam setelah vaksin", "stop vaksin booster?", "mulai kapan", "", "🛑", "s t o p"],
)
def test_opt_words_inside_sentences_are_left_alone(text: str) -> None:
    assert not is_opt_out(text)
    assert not is_opt_in(text)
