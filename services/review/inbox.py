"""The review inbox: what people wrote that the assistant was unsure about, once per message.

A reviewer's time goes furthest on messages the model was least sure of and that many people sent,
so the same message (``normalize``) is one entry however often or however it was typed, and
messages that teach nothing are left out: button payloads and typed option numbers never reach
the classifier's judgement, and known or already decided messages need no second look.

Replies with personal data (an NIK, a birth date typed into the schedule check) are kept apart
(``InboxGroup.personal_data``): the export never writes them into the training data, so a reviewer
should not have to scroll past them. And a reviewer decides fastest by confirming a guess, so every
group carries the model's best real guess (``best_guess``) even when the gate said "not sure".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from core.menu_words import is_menu_word, is_opt_in, is_opt_out, option_number
from core.parse import FALLBACK_INTENT, RETRIEVAL_INTENT, answer_ranking, intent_ranking, selected_answer
from services.review.export import has_personal_data
from services.review.training_data import normalize
from services.review.transcript import INTENT_WORDS, humanise

# Rasa reads a message that starts with "/" as an intent payload ("/faq_choice{...}"): no NLU ran.
PAYLOAD_PREFIX = "/"
FAQ_ANSWER_PREFIX = "utter_faq/"
DID_YOU_MEAN = "utter_did_you_mean"
FAQ_CHOICE_PAYLOAD = "/faq_choice"


@dataclass(frozen=True)
class InboxCandidate:
    """One user message with what the assistant made of it."""

    event_id: int
    conversation_id: str
    timestamp: datetime
    text: str
    predicted: str | None  # "faq/<topic>" or an intent name
    confidence: float | None  # None: the message was not parsed


@dataclass(frozen=True)
class InboxGroup:
    """Every occurrence of one message (same ``normalize``), reviewed once."""

    key: str  # normalized text
    text: str  # the most frequent spelling
    count: int
    predicted: str | None  # the prediction of the lowest-confidence occurrence
    lowest_confidence: float | None  # None: some occurrence was not parsed
    event_ids: tuple[int, ...]
    conversation_ids: tuple[str, ...]
    last_seen: datetime
    sample_event_id: int = 0  # the lowest-confidence occurrence: its parse holds the best guess
    sample_conversation_id: str = ""
    # A reply with an NIK, a date of birth, a phone number …: never training material (the export
    # skips it), so the inbox keeps it out of the way.
    personal_data: bool = False


def is_shortcut(text: str) -> bool:
    """A button payload, a typed option number, a menu word, "BERHENTI" or "MULAI": answered by fixed
    rules whatever the classifier says, so nothing for it to learn."""
    stripped = text.strip()
    return (
        stripped.startswith(PAYLOAD_PREFIX)
        or option_number(stripped) is not None
        or is_menu_word(stripped)
        or is_opt_out(stripped)
        or is_opt_in(stripped)
    )


def _lowness(candidate: InboxCandidate) -> tuple[bool, float, float]:
    """Sort key: unparsed first, then lower confidence, then the more recent occurrence."""
    parsed = candidate.confidence is not None
    return parsed, candidate.confidence or 0.0, -candidate.timestamp.timestamp()


def _group(key: str, members: list[InboxCandidate]) -> InboxGroup:
    members.sort(key=lambda candidate: (candidate.timestamp, candidate.event_id))
    spellings = Counter(" ".join(member.text.split()) for member in members)
    first_seen = {spelling: index for index, spelling in enumerate(spellings)}  # Counter keeps order
    # the most frequent spelling; a tie goes to the one seen first
    text = min(spellings, key=lambda spelling: (-spellings[spelling], first_seen[spelling]))
    lowest = min(members, key=_lowness)
    return InboxGroup(
        key=key,
        text=text,
        count=len(members),
        predicted=lowest.predicted,
        lowest_confidence=lowest.confidence,
        event_ids=tuple(sorted(member.event_id for member in members)),
        conversation_ids=tuple(dict.fromkeys(member.conversation_id for member in members)),
        last_seen=max(member.timestamp for member in members),
        sample_event_id=lowest.event_id,
        sample_conversation_id=lowest.conversation_id,
        personal_data=any(has_personal_data(spelling) for spelling in spellings),
    )


def group_candidates(
    candidates: Iterable[InboxCandidate], known: Mapping[str, str], decided: Collection[str] = ()
) -> list[InboxGroup]:
    """The inbox: one group per unknown, undecided message, the most urgent first.

    Dropped: empty messages, button payloads, option numbers and menu words, messages whose
    normalized text is in ``known`` (training and held-out data: ``known_examples``) or in
    ``decided`` (normalized texts a reviewer already confirmed, corrected or discarded).
    Order: unparsed first, then lowest confidence, then larger groups, then most recently seen.
    Timestamps must be comparable (all timezone-aware, or all naive).
    """
    decided_keys = {normalize(key) for key in decided}
    members: dict[str, list[InboxCandidate]] = {}
    for candidate in candidates:
        if is_shortcut(candidate.text):
            continue
        key = normalize(candidate.text)
        if not key or key in known or key in decided_keys:
            continue
        members.setdefault(key, []).append(candidate)
    groups = [_group(key, group) for key, group in members.items()]
    groups.sort(
        key=lambda group: (
            group.lowest_confidence is not None,
            group.lowest_confidence or 0.0,
            -group.count,
            -group.last_seen.timestamp(),
            group.key,
        )
    )
    return groups


# --- the model's best guess ----------------------------------------------------------------------
class GuessSource(str, Enum):
    ANSWERED = "answered"  # the bot answered this topic (Rasa, or the semantic second stage)
    OFFERED = "offered"  # the second stage's "did you mean" offered it first
    RANKING = "ranking"  # the best label the gate overruled, from the parse's rankings


@dataclass(frozen=True)
class Guess:
    label: str  # "faq/<topic>" or an intent
    confidence: float | None  # None: the second stage chose it, the parse gives it no confidence
    source: GuessSource


def _faq_topic_of(payload: str) -> str | None:
    """``/faq_choice{"topic":"biaya"}`` -> ``faq/biaya``."""
    if not payload.startswith(FAQ_CHOICE_PAYLOAD + "{"):
        return None
    try:
        entities = json.loads(payload[len(FAQ_CHOICE_PAYLOAD) :])
    except ValueError:
        return None
    topic = entities.get("topic") if isinstance(entities, dict) else None
    return f"{RETRIEVAL_INTENT}/{topic}" if isinstance(topic, str) and topic else None


def _decision(bot_events: Sequence[Mapping[str, Any]]) -> tuple[str, GuessSource] | None:
    """What the turn's answer shows the assistant decided: a FAQ answer, or a "did you mean"."""
    for data in bot_events:
        metadata = data.get("metadata") or {}
        response = str(metadata.get("utter_action") or metadata.get("template_name") or "")
        if response.startswith(FAQ_ANSWER_PREFIX):
            return RETRIEVAL_INTENT + "/" + response.removeprefix(FAQ_ANSWER_PREFIX), GuessSource.ANSWERED
        if response == DID_YOU_MEAN:
            for button in (data.get("data") or {}).get("buttons") or []:
                label = _faq_topic_of(str(button.get("payload") or ""))
                if label:
                    return label, GuessSource.OFFERED
    return None


def _ranked(parse: Mapping[str, Any]) -> Guess | None:
    """The best label the gate did not take: the first real intent, for ``faq`` its best answer."""
    for intent in intent_ranking(parse):
        if intent.name == FALLBACK_INTENT:
            continue
        if intent.name == RETRIEVAL_INTENT:
            answers = answer_ranking(parse) or [a for a in [selected_answer(parse)] if a is not None]
            if not answers:
                continue
            return Guess(answers[0].label, answers[0].confidence, GuessSource.RANKING)
        return Guess(intent.name, intent.confidence, GuessSource.RANKING)
    return None


def best_guess(parse: Mapping[str, Any], bot_events: Sequence[Mapping[str, Any]] = ()) -> Guess | None:
    """The model's best real guess for one user message (``nlu_fallback`` is no guess).

    ``bot_events`` are the data of the bot events of the message's turn. What the assistant did
    wins (it answered a topic, or offered it first in "did you mean": the semantic second stage
    judged both the parse and the message); its confidence is the parse's for that topic, if
    ranked. Otherwise the parse's rankings, read through core/parse.py, the one reader of a parse.
    """
    answers = {answer.label: answer.confidence for answer in answer_ranking(parse)}
    decided = _decision(bot_events)
    if decided is not None:
        label, source = decided
        return Guess(label, answers.get(label), source)
    return _ranked(parse)


def label_words(label: str | None, titles: Mapping[str, str]) -> str:
    """A label as a reviewer reads it: a FAQ topic's menu title, an intent in words (the transcript's)."""
    if not label:
        return ""
    prefix, _, topic = label.partition("/")
    if prefix == RETRIEVAL_INTENT and topic:
        return titles.get(topic) or humanise(topic)
    return INTENT_WORDS.get(label, humanise(label))


def percent(confidence: float | None) -> str:
    """``0.3`` -> ``30 %`` (Indonesian writes a space before the sign); None -> ""."""
    return "" if confidence is None else f"{round(confidence * 100):d} %"
