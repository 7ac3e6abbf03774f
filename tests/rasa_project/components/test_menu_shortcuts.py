"""Option numbers and menu words mean the same at any point of a conversation."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from rasa_project.components.menu_shortcuts import MenuShortcuts, is_menu_word, option_number


def parsed(text: str, intent: str = "nlu_fallback") -> Message:
    return Message(
        {
            "text": text,
            "intent": {"name": intent, "confidence": 0.3},
            "intent_ranking": [{"name": intent, "confidence": 0.3}, {"name": "affirm", "confidence": 0.2}],
            "entities": [],
        }
    )


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


def test_a_number_becomes_a_choice_with_its_number() -> None:
    [message] = MenuShortcuts().process([parsed("2")])
    assert message.data["intent"] == {"name": "choose_option", "confidence": 1.0}
    assert [entry["name"] for entry in message.data["intent_ranking"]] == [
        "choose_option",
        "nlu_fallback",
        "affirm",
    ]
    assert [(e["entity"], e["value"]) for e in message.data["entities"]] == [("option_number", "2")]


def test_menu_and_kembali_become_show_menu_and_other_messages_stay() -> None:
    menu, back, question = MenuShortcuts().process(
        [parsed("menu", "affirm"), parsed("kembali"), parsed("vaksin 2 kali?")]
    )
    assert menu.data["intent"]["name"] == "show_menu"
    assert back.data["intent"]["name"] == "show_menu"
    assert question.data["intent"]["name"] == "nlu_fallback"
