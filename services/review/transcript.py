"""A conversation's tracker store events as the lines of a transcript, personal data masked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.review.indexer import TrackerEvent, parse_user_event
from services.review.masking import mask_message, mask_personal_data, mask_value
from services.review.models import ReviewMessage

# After every bot turn, and after every user message: noise in a transcript.
HIDDEN_ACTIONS = frozenset({"action_listen"})
HIDDEN_EVENTS = frozenset({"user_featurization"})


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass
class TranscriptLine:
    kind: str  # user, bot, action, slot, session, event
    at: datetime | None
    event_id: int
    text: str = ""
    intent: str | None = None
    intent_confidence: float | None = None
    topic: str | None = None
    topic_confidence: float | None = None
    channel: str | None = None
    outcome: str | None = None
    response: str | None = None  # the bot's utter_action
    buttons: list[Button] = field(default_factory=list)
    name: str | None = None  # action or slot name
    value: str | None = None  # slot value, masked, as JSON
    detail: str | None = None  # policy and confidence of an action


def _buttons(data: dict[str, Any]) -> list[Button]:
    found = (data.get("data") or {}).get("buttons") or []
    return [
        Button(mask_personal_data(button.get("title")), mask_personal_data(button.get("payload")))
        for button in found
        if isinstance(button, dict)
    ]


def _user(event: TrackerEvent, message: ReviewMessage | None) -> TranscriptLine:
    parsed = parse_user_event(event.data)
    intent = (event.data.get("parse_data") or {}).get("intent") or {}
    return TranscriptLine(
        kind="user",
        at=event.timestamp,
        event_id=event.id,
        text="" if parsed.text is None else mask_message(parsed.text),
        intent=parsed.intent,
        intent_confidence=intent.get("confidence"),
        topic=parsed.topic,
        topic_confidence=parsed.confidence if parsed.topic else None,
        channel=parsed.channel,
        outcome=message.outcome if message else None,
    )


def build_transcript(events: list[TrackerEvent], messages: dict[int, ReviewMessage]) -> list[TranscriptLine]:
    lines: list[TranscriptLine] = []
    for event in events:
        kind = event.type_name
        if kind in HIDDEN_EVENTS:
            continue
        if kind == "user":
            lines.append(_user(event, messages.get(event.id)))
        elif kind == "bot":
            metadata = event.data.get("metadata") or {}
            lines.append(
                TranscriptLine(
                    kind="bot",
                    at=event.timestamp,
                    event_id=event.id,
                    text=mask_personal_data(event.data.get("text")),
                    response=metadata.get("utter_action"),
                    buttons=_buttons(event.data),
                )
            )
        elif kind == "action":
            name = event.data.get("name")
            if name in HIDDEN_ACTIONS:
                continue
            policy = event.data.get("policy")
            confidence = event.data.get("confidence")
            detail = " ".join(
                part
                for part in (
                    str(policy) if policy else "",
                    f"{float(confidence):.2f}" if isinstance(confidence, int | float) else "",
                )
                if part
            )
            lines.append(
                TranscriptLine(kind="action", at=event.timestamp, event_id=event.id, name=name, detail=detail)
            )
        elif kind == "slot":
            value = json.dumps(mask_value(event.data.get("value")), ensure_ascii=False)
            lines.append(
                TranscriptLine(
                    kind="slot",
                    at=event.timestamp,
                    event_id=event.id,
                    name=event.data.get("name"),
                    value=value,
                )
            )
        elif kind in ("session_started", "restart"):
            lines.append(TranscriptLine(kind="session", at=event.timestamp, event_id=event.id, name=kind))
        else:
            lines.append(TranscriptLine(kind="event", at=event.timestamp, event_id=event.id, name=kind))
    return lines
