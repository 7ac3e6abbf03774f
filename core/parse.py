"""Reading a Rasa NLU parse: the one accessor for where Rasa puts its intent and FAQ answers.

Standard library only: the Rasa components, the trainer's evaluation (Rasa env), and the action
server and the end-to-end evaluation (actions env) all read ``response_selector.<retrieval
intent>.ranking`` through ``answer_ranking``, so a change of Rasa's layout is mended here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

RETRIEVAL_INTENT = "faq"
FALLBACK_INTENT = "nlu_fallback"
RESPONSE_SELECTOR = "response_selector"


class Answer(NamedTuple):
    label: str  # "faq/<topic>"
    confidence: float


def _selector(parse: Mapping[str, Any], retrieval_intent: str) -> Mapping[str, Any]:
    selectors = parse.get(RESPONSE_SELECTOR) or {}
    return selectors.get(retrieval_intent) or selectors.get("default") or {}


def selected_answer(parse: Mapping[str, Any], retrieval_intent: str = RETRIEVAL_INTENT) -> Answer | None:
    """The answer Rasa selected (``response``), or None when it selected none."""
    response = _selector(parse, retrieval_intent).get("response") or {}
    key = response.get("intent_response_key")
    return Answer(str(key), float(response.get("confidence") or 0.0)) if key else None


def answer_ranking(parse: Mapping[str, Any], retrieval_intent: str = RETRIEVAL_INTENT) -> list[Answer]:
    """The ResponseSelector's ranked answers, best first (kept behind a fallback too)."""
    selector = _selector(parse, retrieval_intent)
    return [
        Answer(str(entry["intent_response_key"]), float(entry.get("confidence") or 0.0))
        for entry in selector.get("ranking") or []
        if entry.get("intent_response_key")
    ]


class Intent(NamedTuple):
    name: str
    confidence: float


def intent_ranking(parse: Mapping[str, Any]) -> list[Intent]:
    """The ranked intents, best first; behind a fallback, the ranking the gate overruled follows it."""
    return [
        Intent(str(entry["name"]), float(entry.get("confidence") or 0.0))
        for entry in parse.get("intent_ranking") or []
        if isinstance(entry, Mapping) and entry.get("name")
    ]


def intent_name(parse: Mapping[str, Any]) -> str:
    """The intent Rasa acts on (gated: ``nlu_fallback`` when not sure)."""
    return str((parse.get("intent") or {}).get("name") or FALLBACK_INTENT)
