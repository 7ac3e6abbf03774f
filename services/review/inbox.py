"""The review inbox: what people wrote that the assistant was unsure about, once per message.

A reviewer's time goes furthest on messages the model was least sure of and that many people sent,
so the same message (``normalize``) is one entry however often or however it was typed, and
messages that teach nothing are left out: button payloads and typed option numbers never reach
the classifier's judgement, and known or already decided messages need no second look.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.menu_words import is_menu_word, option_number
from services.review.training_data import normalize

# Rasa reads a message that starts with "/" as an intent payload ("/faq_choice{...}"): no NLU ran.
PAYLOAD_PREFIX = "/"


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


def is_shortcut(text: str) -> bool:
    """A button payload, a typed option number or a menu word: nothing for the classifier to learn."""
    stripped = text.strip()
    return (
        stripped.startswith(PAYLOAD_PREFIX) or option_number(stripped) is not None or is_menu_word(stripped)
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
