"""Handing over, an officer's reply, handing back: what the actions ask Rasa to say, and the marks
that tell the WhatsApp channel to keep or forget the number (rendered texts: tests/integration)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    ActionHandoffWait,
    ActionRelayOfficerReply,
    ActionReleaseHandoff,
    request_handoff,
)
from core.handoff import OFFICER_REPLY_INTENT, OFFICER_REPLY_MAX_CHARACTERS, OFFICER_TEXT_ENTITY


@pytest.fixture(autouse=True)
def office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFICER_WORKING_HOURS", "mon-fri 08:00-16:00")


def tracker(waiting: bool, text: object = None) -> Tracker:
    entities = [] if text is None else [{"entity": OFFICER_TEXT_ENTITY, "value": text}]
    latest = {
        "text": f"EXTERNAL: {OFFICER_REPLY_INTENT}",
        "intent": {"name": OFFICER_REPLY_INTENT},
        "entities": entities,
    }
    return Tracker("wa_abc", {"handoff_requested": waiting}, latest, [], False, None, {}, "action_listen")


async def relay(waiting: bool, text: object) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert await ActionRelayOfficerReply().run(dispatcher, tracker(waiting, text), {}) == []
    return dispatcher.messages


async def test_the_officer_reply_is_said_under_the_officer_line() -> None:
    [message] = await relay(True, "  Selamat siang, Bu. Jadwal dosis Anda ada di SATUSEHAT Mobile.  ")
    assert message["response"] == "utter_officer_reply"
    assert message["officer_text"] == "Selamat siang, Bu. Jadwal dosis Anda ada di SATUSEHAT Mobile."


@pytest.mark.parametrize("text", ["", "   ", None, 42, ["a"]])
async def test_nothing_is_said_for_an_empty_or_odd_reply(text: object) -> None:
    assert await relay(True, text) == []


async def test_nothing_is_said_once_the_conversation_is_back_with_the_bot() -> None:
    assert await relay(False, "halo") == []


async def test_a_reply_is_bounded() -> None:
    [message] = await relay(True, "x" * 5000)
    assert len(message["officer_text"]) == OFFICER_REPLY_MAX_CHARACTERS


def hand_over(moment: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = request_handoff(dispatcher, tracker(False), now=moment)
    return dispatcher.messages, {event["name"]: event["value"] for event in events}


def test_in_working_hours_the_promise_is_the_hours() -> None:
    monday_ten_jakarta = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    [message], slots = hand_over(monday_ten_jakarta)
    assert message["response"] == "utter_handoff_requested"
    assert message["jam_kerja"] == "Senin–Jumat, 08.00–16.00 WIB"
    assert message["handoff"] == "open"
    assert slots["handoff_requested"] is True


def test_after_hours_the_promise_is_the_next_opening() -> None:
    saturday_night_jakarta = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    [message], _ = hand_over(saturday_night_jakarta)
    assert message["response"] == "utter_handoff_requested_after_hours"
    assert message["balasan_mulai"] == "Senin, 7 Desember pukul 08.00 WIB"
    assert message["handoff"] == "open"


def test_unreadable_hours_fall_back_to_office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFICER_WORKING_HOURS", "always")
    [message], _ = hand_over(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    assert message["jam_kerja"] == "Senin–Jumat, 08.00–16.00 WIB"


async def test_waiting_says_nothing_but_keeps_the_number_and_the_release_forgets_it() -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandoffWait().run(dispatcher, tracker(True), {})
    [mark] = dispatcher.messages
    assert mark["handoff"] == "open" and not mark.get("text") and not mark.get("response")
    dispatcher = CollectingDispatcher()
    events = await ActionReleaseHandoff().run(dispatcher, tracker(True), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_released" and message["handoff"] == "closed"
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_requested", "value": False}]
