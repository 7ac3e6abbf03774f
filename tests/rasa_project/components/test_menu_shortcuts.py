"""Option numbers and menu words mean the same at any point of a conversation."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from rasa_project.components.menu_shortcuts import MenuShortcuts


def parsed(text: str, intent: str = "nlu_fallback") -> Message:
    return Message(
        {
            "text": text,
            "intent": {"name": intent, "confidence": 0.3},
            "intent_ranking": [{"name": intent, "confidence": 0.3}, {"name": "affirm", "confidence": 0.2}],
            "entities": [],
        }
    )


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


def test_opt_out_and_opt_in_words_win_over_the_classifier() -> None:
    stop, berhenti, dont_send, start, mulai = MenuShortcuts().process(
        [
            parsed("STOP", "faq"),
            parsed("Berhenti!", "affirm"),
            parsed("jangan kirim lagi", "deny"),
            parsed("start", "greet"),
            parsed("MULAI", "nlu_fallback"),
        ]
    )
    assert [m.data["intent"]["name"] for m in (stop, berhenti, dont_send)] == ["opt_out"] * 3
    assert [m.data["intent"]["name"] for m in (start, mulai)] == ["opt_in"] * 2
    assert stop.data["intent"]["confidence"] == 1.0
    assert [entry["name"] for entry in stop.data["intent_ranking"]][:2] == ["opt_out", "faq"]


def test_a_question_with_a_stop_word_in_it_stays_a_question() -> None:
    [question, started] = MenuShortcuts().process(
        [
            parsed("kapan harus berhenti minum obat setelah vaksin", "faq"),
            parsed("mulai kapan booster", "faq"),
        ]
    )
    assert question.data["intent"]["name"] == "faq"
    assert started.data["intent"]["name"] == "faq"
