"""What the officer console tests share: conversations waiting for an officer, officers, a fake Rasa.

The fake Rasa is the *other* deployable, faked at its HTTP API: it records every request and, like
the real assistant, writes what happened into the tracker store (the officer's reply as a bot
message, a release as the slot turning false), so pages are checked on what the officer then sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx

from core.handoff import OFFICER_REPLY_INTENT, OFFICER_TEXT_ENTITY, RELEASE_INTENT
from services.review.auth import create_user
from services.review.database import make_engine, make_session_factory
from services.review.migrate import upgrade_to_head
from services.review.models import Role
from tests.services.review.support import ADMIN, REVIEWER, START, write_events

OFFICER = ("olga", "officer-password-1")
OTHER_OFFICER = ("oki", "officer-password-2")
API_TOKEN = "rasa-api-token-for-tests"
OFFICER_PREFIX = "Petugas Kemenkes:"

OLD_WHATSAPP = "wa_8b2e44f01c9a"  # snapshot: waiting since 2026-01-01, its WhatsApp window closed
WHATSAPP = "wa_628111222333"  # waiting since 2 h before START: window open for 22 h more
REST = "web-antre-1"  # waiting since 30 min before START: REST has no window
NIK = "3174051708859001"


def user_event(at: datetime, text: str, channel: str, intent: str = "faq") -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at.timestamp(),
        "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []},
        "input_channel": channel,
    }


def bot_event(at: datetime, text: str, response: str) -> dict[str, Any]:
    return {
        "event": "bot",
        "timestamp": at.timestamp(),
        "text": text,
        "data": {},
        "metadata": {"utter_action": response},
    }


def slot_event(at: datetime, value: bool) -> dict[str, Any]:
    return {"event": "slot", "timestamp": at.timestamp(), "name": "handoff_requested", "value": value}


def handoff_events(asked_at: datetime, channel: str, text: str) -> list[dict[str, Any]]:
    """A session that asks for an officer at ``asked_at`` and then writes ``text`` while waiting."""
    answered = asked_at + timedelta(seconds=1)
    return [
        {"event": "session_started", "timestamp": (asked_at - timedelta(minutes=1)).timestamp()},
        user_event(asked_at, "bisa bicara dengan petugas?", channel, "human_handoff"),
        {"event": "action", "timestamp": answered.timestamp(), "name": "action_request_handoff"},
        bot_event(answered, "Petugas akan membalas di sini pada jam kerja.", "utter_handoff_requested"),
        slot_event(answered, True),
        user_event(asked_at + timedelta(seconds=30), text, channel, "nlu_fallback"),
    ]


def write_waiting_conversations(url: str) -> None:
    write_events(
        url, WHATSAPP, handoff_events(START - timedelta(hours=2), "whatsapp", "halo? masih ada orang?")
    )
    write_events(
        url, REST, handoff_events(START - timedelta(minutes=30), "rest", f"NIK saya {NIK} tolong cek")
    )


def create_users(database_url: str, now: datetime) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session, session.begin():
            create_user(session, REVIEWER[0], REVIEWER[1], Role.REVIEWER, now)
            create_user(session, ADMIN[0], ADMIN[1], Role.ADMIN, now)
            create_user(session, OFFICER[0], OFFICER[1], Role.OFFICER, now)
            create_user(session, OTHER_OFFICER[0], OTHER_OFFICER[1], Role.OFFICER, now)
    finally:
        engine.dispose()


@dataclass
class FakeRasa:
    """Rasa's ``trigger_intent`` endpoint, answering as Rasa does and writing to the tracker store."""

    tracker_url: str
    clock: Any
    status: int = 200
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json={"status": "failure"})
        path = request.url.path
        if not path.endswith("/trigger_intent") or request.url.params.get("token") != API_TOKEN:
            return httpx.Response(401, json={"status": "failure", "reason": "NotAuthenticated"})
        sender = unquote(path.split("/")[2])
        body = json.loads(request.content)
        now: datetime = self.clock()
        # As UserUttered.create_external records it: the entities given, the metadata is_external.
        external = user_event(now, f"EXTERNAL: {body['name']}", "rest", body["name"])
        entities = body.get("entities") or {}
        external["parse_data"]["entities"] = [
            {"entity": name, "value": value} for name, value in entities.items()
        ]
        external["metadata"] = {"is_external": True}
        if body["name"] == OFFICER_REPLY_INTENT:
            text = f"{OFFICER_PREFIX}\n{body['entities'][OFFICER_TEXT_ENTITY]}"
            events = [external, bot_event(now + timedelta(seconds=1), text, "utter_officer_reply")]
            messages = [{"recipient_id": sender, "text": text}]
        elif body["name"] == RELEASE_INTENT:
            text = "Anda kembali terhubung dengan asisten otomatis."
            events = [external, bot_event(now, text, "utter_handoff_released"), slot_event(now, False)]
            messages = [{"recipient_id": sender, "text": text}]
        else:
            return httpx.Response(400, json={"status": "failure", "reason": "intent not in domain"})
        write_events(self.tracker_url, sender, events)
        return httpx.Response(200, json={"tracker": {"sender_id": sender}, "messages": messages})
