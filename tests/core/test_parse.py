"""The one reader of Rasa's parse: intent, selected answer and ranking, however Rasa filled them."""

from __future__ import annotations

from typing import Any

from core.parse import Answer, answer_ranking, intent_name, selected_answer

PARSE: dict[str, Any] = {
    "intent": {"name": "faq", "confidence": 0.91},
    "response_selector": {
        "faq": {
            "response": {"intent_response_key": "faq/biaya", "confidence": 0.88},
            "ranking": [
                {"intent_response_key": "faq/biaya", "confidence": 0.88},
                {"intent_response_key": "faq/lokasi", "confidence": "0.07"},
                {"confidence": 0.05},
            ],
        }
    },
}


def test_ranking_and_selected_answer() -> None:
    assert answer_ranking(PARSE) == [Answer("faq/biaya", 0.88), Answer("faq/lokasi", 0.07)]
    assert selected_answer(PARSE) == Answer("faq/biaya", 0.88)
    assert intent_name(PARSE) == "faq"


def test_rasas_default_selector_key_is_read_too() -> None:
    parse = {"response_selector": {"default": PARSE["response_selector"]["faq"]}}
    assert selected_answer(parse) == Answer("faq/biaya", 0.88)


def test_a_parse_without_answers() -> None:
    empty: list[dict[str, Any]] = [
        {},
        {"response_selector": None},
        {"response_selector": {"faq": {"response": {}}}},
    ]
    for parse in empty:
        assert answer_ranking(parse) == [] and selected_answer(parse) is None
    assert intent_name({}) == "nlu_fallback"
