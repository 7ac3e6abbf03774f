"""How one parsed message counts: the assistant's answer versus the label.

A parse result is what Rasa's NLU returns. The *gated* prediction is what the
assistant acts on (``nlu_fallback`` included); the *raw* prediction is where the
model would route the message if no fallback gate existed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from core.parse import FALLBACK_INTENT as FALLBACK
from core.parse import RETRIEVAL_INTENT, answer_ranking, intent_name

RIGHT = "right"
WRONG = "wrong"
FALLBACK_WAY = "fallback"


@dataclass(frozen=True)
class Prediction:
    gated: str
    raw: str
    answer_confidences: tuple[float, ...]  # ResponseSelector ranking, best first


def _full_name(intent: str, parse: dict[str, Any]) -> str:
    if intent != RETRIEVAL_INTENT:
        return intent
    ranking = answer_ranking(parse)
    return ranking[0].label if ranking else RETRIEVAL_INTENT


def prediction_from_parse(parse: dict[str, Any]) -> Prediction:
    ranking = [entry for entry in parse.get("intent_ranking", []) if entry["name"] != FALLBACK]
    top: dict[str, Any] = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    gated_intent = intent_name(parse)
    return Prediction(
        gated=FALLBACK if gated_intent == FALLBACK else _full_name(gated_intent, parse),
        raw=_full_name(top["name"], parse),
        answer_confidences=tuple(answer.confidence for answer in answer_ranking(parse)),
    )


def outcome(label: str, predicted: str) -> str:
    """Right answer, wrong answer, or the honest fallback way."""
    if predicted == label:
        return RIGHT
    if predicted == FALLBACK:
        return FALLBACK_WAY
    return WRONG


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
