"""The conversations the browser tests put into Rasa's tracker store, and what each one is known to be.

All five snapshot conversations of tests/services/review (real ``UserUttered.as_dict()`` events),
plus four written here in the same event shapes, a few hours old. The facts the tests assert
(which conversations had a fallback, what personal data was typed, which message was uncertain)
are stated here, next to the events that make them true, not read back from the app.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.services.review.support import snapshot, write_events

# --- the snapshot conversations --------------------------------------------------------------
# snapshot name -> had a fallback turn (see each file's "note"): nlu_fallback twice and the officer
# offer; a "did you mean" answer and an out-of-scope answer. The other three were answered or handed
# over without any "not sure" answer.
SNAPSHOT_FALLBACK = {
    "faq_answered": False,
    "fallback_then_handoff": True,
    "handoff_released": False,
    "new_session_after_handoff": False,
    "did_you_mean_then_choice": True,
}

# --- conversations written here ---------------------------------------------------------------
# What one person typed into the PII conversation: none of it may reach a review page.
PII_PHONE = "0812-3456-7890"
PII_EMAIL = "rina.wati@contoh.co.id"
PII_NIK = "3174 0517 0885 9001"
PII_CONVERSATION = "browser-pii-3a7e"
# A message the model was unsure of (not in data/nlu or data/heldout): the NLU inbox shows it, and
# the test corrects its label from the predicted topic to the right one.
INBOX_TEXT = "kalo vaksin di posyandu deket rumah ditarik biaya seratus ribu itu wajar ga"
INBOX_PREDICTED = "faq/lokasi"
INBOX_CONFIDENCE = 0.38
INBOX_CORRECT_TOPIC = "biaya"
INBOX_CONVERSATION = "browser-inbox-51c2"


@dataclass(frozen=True)
class Turn:
    """A user message, what NLU made of it, and the bot's answer."""

    text: str
    intent: str
    confidence: float
    topic: str | None = None  # "faq/<topic>" from the response selector, for intent "faq"
    topic_confidence: float | None = None
    response: str = "utter_default"
    bot_text: str = "..."
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Conversation:
    sender_id: str
    channel: str
    turns: tuple[Turn, ...]
    has_fallback: bool  # a turn whose intent is nlu_fallback or whose answer is a "not sure" answer
    hours_ago: float


def _parse_data(turn: Turn) -> dict[str, Any]:
    parse: dict[str, Any] = {
        "text": turn.text,
        "intent": {"name": turn.intent, "confidence": turn.confidence},
        "entities": [],
        "intent_ranking": [
            {"name": turn.intent, "confidence": turn.confidence},
            {"name": "out_of_scope", "confidence": round((1 - turn.confidence) / 2, 3)},
        ],
    }
    if turn.topic is not None:
        response = {
            "id": None,
            "responses": [{"text": "..."}],
            "response_templates": [{"text": "..."}],
            "confidence": turn.topic_confidence,
            "intent_response_key": turn.topic,
            "utter_action": f"utter_{turn.topic}",
            "template_name": f"utter_{turn.topic}",
        }
        parse["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": response,
                "ranking": [
                    {"id": None, "confidence": turn.topic_confidence, "intent_response_key": turn.topic}
                ],
            },
        }
    return parse


def _action(at: float, name: str, policy: str | None = "RulePolicy") -> dict[str, Any]:
    return {
        "event": "action",
        "timestamp": at,
        "name": name,
        "policy": policy,
        "confidence": 1.0 if policy else None,
        "action_text": None,
        "hide_rule_turn": False,
    }


def events(conversation: Conversation, now: datetime) -> list[dict[str, Any]]:
    """The events Rasa would store for ``conversation``: a session start, then the turns a minute apart."""
    at = (now - timedelta(hours=conversation.hours_ago)).timestamp()
    found: list[dict[str, Any]] = [
        _action(at, "action_session_start", policy=None),
        {"event": "session_started", "timestamp": at + 0.001},
        _action(at + 0.002, "action_listen", policy=None),
    ]
    for number, turn in enumerate(conversation.turns):
        start = at + 30 + 60 * number
        found += [
            {
                "event": "user",
                "timestamp": start,
                "text": turn.text,
                "parse_data": _parse_data(turn),
                "input_channel": conversation.channel,
                "message_id": hashlib.md5(f"{conversation.sender_id}/{number}".encode()).hexdigest(),
                "metadata": {},
            },
            {"event": "user_featurization", "timestamp": start + 0.01, "use_text_for_featurization": False},
            _action(start + 0.03, "action_answer_faq" if turn.topic else turn.response),
            {
                "event": "bot",
                "timestamp": start + 0.3,
                "text": turn.bot_text,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": turn.buttons or None,
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
                "metadata": {"utter_action": turn.response},
            },
            _action(start + 0.34, "action_listen"),
        ]
    return found


CONVERSATIONS = (
    Conversation(
        PII_CONVERSATION,
        "whatsapp",
        (
            Turn(
                f"nomor saya {PII_PHONE} dan email {PII_EMAIL}, booster kedua kapan ya?",
                "faq",
                0.88,
                topic="faq/booster_kedua",
                topic_confidence=0.74,
                response="utter_faq/booster_kedua",
                bot_text="Booster kedua diberikan minimal 6 bulan setelah booster pertama.",
            ),
            Turn(
                f"NIK {PII_NIK} kok belum terdaftar",
                "nlu_fallback",
                0.31,
                response="utter_uncertain_answer",
                bot_text="Maaf, saya belum yakin memahami pertanyaan Anda.",
            ),
        ),
        has_fallback=True,
        hours_ago=3,
    ),
    Conversation(
        INBOX_CONVERSATION,
        "rest",
        (
            Turn(
                INBOX_TEXT,
                "faq",
                0.52,
                topic=INBOX_PREDICTED,
                topic_confidence=INBOX_CONFIDENCE,
                response="utter_did_you_mean",
                bot_text="Apakah maksud Anda: lokasi vaksinasi?",
                buttons=[{"title": "Lokasi vaksinasi", "payload": '/faq_choice{"topic":"lokasi"}'}],
            ),
        ),
        has_fallback=True,
        hours_ago=2,
    ),
    Conversation(
        "browser-ok-9d04",
        "whatsapp",
        (
            Turn(
                "apakah ibu hamil boleh divaksin covid?",
                "faq",
                0.96,
                topic="faq/ibu_hamil",
                topic_confidence=0.93,
                response="utter_faq/ibu_hamil",
                bot_text="Ibu hamil boleh divaksin mulai trimester kedua.",
            ),
            Turn("makasih banyak", "thank", 0.99, response="utter_thank", bot_text="Sama-sama!"),
        ),
        has_fallback=False,
        hours_ago=1,
    ),
    Conversation(
        "browser-oos-77b1",
        "whatsapp",
        (
            Turn(
                "cuaca jakarta besok gimana",
                "out_of_scope",
                0.83,
                response="utter_out_of_scope",
                bot_text="Maaf, saya hanya bisa menjawab pertanyaan seputar vaksin COVID-19.",
            ),
        ),
        has_fallback=True,
        hours_ago=0.5,
    ),
)


def write_tracker(url: str, now: datetime | None = None) -> dict[str, bool]:
    """Write every conversation into the tracker store at ``url``; returns sender id -> had a fallback."""
    moment = now or datetime.now(UTC)
    written: dict[str, bool] = {}
    for name, fallback in SNAPSHOT_FALLBACK.items():
        data = snapshot(name)
        write_events(url, data["sender_id"], data["events"])
        written[data["sender_id"]] = fallback
    for conversation in CONVERSATIONS:
        write_events(url, conversation.sender_id, events(conversation, moment))
        written[conversation.sender_id] = conversation.has_fallback
    return written
