"""A confident intent with an unsure answer goes the fallback way."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from rasa_project.components.answer_confidence_gate import AnswerConfidenceGate


def parsed(intent: str, intent_confidence: float, answers: list[float]) -> Message:
    data: dict[str, Any] = {
        "text": "vaksin bayar ga",
        "intent": {"name": intent, "confidence": intent_confidence},
        "intent_ranking": [{"name": intent, "confidence": intent_confidence}],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"confidence": c, "intent_response_key": f"faq/t{i}"} for i, c in enumerate(answers)
                ]
            }
        },
    }
    return Message(data)


@pytest.fixture
def gate() -> AnswerConfidenceGate:
    config = {**AnswerConfidenceGate.get_default_config(), "threshold": 0.6, "ambiguity_threshold": 0.2}
    return AnswerConfidenceGate(config)


def test_a_confident_answer_passes(gate: AnswerConfidenceGate) -> None:
    [message] = gate.process([parsed("faq", 0.99, [0.9, 0.05])])
    assert message.data["intent"]["name"] == "faq"


@pytest.mark.parametrize("answers", [[0.5, 0.1], [0.65, 0.5], []])
def test_weak_or_tied_answers_fall_back(gate: AnswerConfidenceGate, answers: list[float]) -> None:
    [message] = gate.process([parsed("faq", 0.99, answers)])
    assert message.data["intent"]["name"] == "nlu_fallback"
    ranking = [entry["name"] for entry in message.data["intent_ranking"]]
    assert ranking == ["nlu_fallback", "faq"], "the original ranking is kept behind the fallback"


def test_other_intents_are_left_alone(gate: AnswerConfidenceGate) -> None:
    [message] = gate.process([parsed("greet", 0.7, [0.1, 0.1])])
    assert message.data["intent"]["name"] == "greet"
