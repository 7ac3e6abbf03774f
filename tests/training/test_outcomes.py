"""How held-out predictions are counted."""

from __future__ import annotations

from training.outcomes import (
    FALLBACK,
    prediction_from_parse,
    rates,
)


def test_gated_and_raw_predictions_from_a_fallback_parse() -> None:
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "faq", "confidence": 0.9},
            {"name": "greet", "confidence": 0.1},
        ],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": "faq/biaya", "confidence": 0.45},
                    {"intent_response_key": "faq/halal", "confidence": 0.40},
                ]
            }
        },
    }
    prediction = prediction_from_parse(parse)
    assert prediction.gated == FALLBACK
    assert prediction.raw == "faq/biaya"
    assert prediction.answer_confidences == (0.45, 0.40)


def test_rates_count_right_wrong_and_fallback() -> None:
    result = rates(["faq/a", "faq/b", "faq/c", "greet"], ["faq/a", "faq/a", FALLBACK, "greet"])
    assert (result.right, result.wrong, result.fallback) == (0.5, 0.25, 0.25)
