"""How one parsed message counts: the assistant's answer versus the label.

A parse result is what Rasa's NLU returns. The *gated* prediction is what the
assistant acts on (``nlu_fallback`` included); the *raw* prediction is where the
model would route the message if no fallback gate existed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

FALLBACK = "nlu_fallback"
RETRIEVAL_INTENT = "faq"

RIGHT = "right"
WRONG = "wrong"
FALLBACK_WAY = "fallback"


@dataclass(frozen=True)
class Prediction:
    gated: str
    raw: str
    intent_confidence: float
    answer_confidences: tuple[float, ...]  # ResponseSelector ranking, best first


def _answer_ranking(parse: dict[str, Any]) -> list[dict[str, Any]]:
    selectors = parse.get("response_selector", {})
    selector = selectors.get(RETRIEVAL_INTENT) or selectors.get("default") or {}
    return list(selector.get("ranking") or [])


def _full_name(intent: str, parse: dict[str, Any]) -> str:
    if intent != RETRIEVAL_INTENT:
        return intent
    ranking = _answer_ranking(parse)
    return str(ranking[0]["intent_response_key"]) if ranking else RETRIEVAL_INTENT


def prediction_from_parse(parse: dict[str, Any]) -> Prediction:
    ranking = [entry for entry in parse.get("intent_ranking", []) if entry["name"] != FALLBACK]
    top: dict[str, Any] = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    gated_intent = parse["intent"]["name"]
    return Prediction(
        gated=FALLBACK if gated_intent == FALLBACK else _full_name(gated_intent, parse),
        raw=_full_name(top["name"], parse),
        intent_confidence=float(top["confidence"]),
        answer_confidences=tuple(float(e["confidence"]) for e in _answer_ranking(parse)),
    )


def outcome(label: str, predicted: str) -> str:
    """Right answer, wrong answer, or the honest fallback way."""
    if predicted == label:
        return RIGHT
    if predicted == FALLBACK:
        return FALLBACK_WAY
    return WRONG


def gate(
    prediction: Prediction,
    intent_threshold: float,
    answer_threshold: float,
    answer_margin: float,
) -> str:
    """Re-applies the fallback gates with other thresholds (for calibration)."""
    if prediction.intent_confidence < intent_threshold:
        return FALLBACK
    if prediction.raw.startswith(RETRIEVAL_INTENT + "/"):
        answers = prediction.answer_confidences
        best = answers[0] if answers else 0.0
        runner_up = answers[1] if len(answers) > 1 else 0.0
        if best < answer_threshold or best - runner_up < answer_margin:
            return FALLBACK
    return prediction.raw


@dataclass(frozen=True)
class Rates:
    count: int
    right: float
    wrong: float
    fallback: float


def rates(labels: list[str], predicted: list[str]) -> Rates:
    counts = Counter(outcome(label, guess) for label, guess in zip(labels, predicted))
    total = max(len(labels), 1)
    return Rates(
        count=len(labels),
        right=counts[RIGHT] / total,
        wrong=counts[WRONG] / total,
        fallback=counts[FALLBACK_WAY] / total,
    )


def is_faq(label: str) -> bool:
    return label.startswith(RETRIEVAL_INTENT + "/")
