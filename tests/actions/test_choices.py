"""Payloads, menu positions and what the previous bot turn offered."""

from __future__ import annotations

from typing import Any

import pytest

from actions.choices import (
    Choice,
    faq_payload,
    menu_position,
    menu_response,
    offered_last_turn,
    parent,
    parse_payload,
    previous_streak,
    topic_titles,
)
from tests.actions.conftest import load_snapshot


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("/show_menu", Choice("show_menu")),
        ('/faq_choice{"topic":"biaya"}', Choice("faq_choice", {"topic": "biaya"})),
        (
            '/show_menu{"menu_category":"syarat","menu_page":"2"}',
            Choice("show_menu", {"menu_category": "syarat", "menu_page": "2"}),
        ),
        ("biaya", None),
        ("/faq_choice{not json}", None),
        ("/faq_choice[1]", None),
    ],
)
def test_payloads_are_parsed(payload: str, expected: Choice | None) -> None:
    assert parse_payload(payload) == expected


def test_a_faq_payload_round_trips() -> None:
    assert faq_payload("ibu_hamil") == '/faq_choice{"topic":"ibu_hamil"}'
    assert parse_payload(faq_payload("ibu_hamil")) == Choice("faq_choice", {"topic": "ibu_hamil"})


@pytest.mark.parametrize(
    ("category", "page", "position", "response", "up"),
    [
        (None, None, "main", "utter_menu", "main"),
        ("umum", None, "umum", "utter_menu_umum", "main"),
        ("syarat", "1", "syarat", "utter_menu_syarat", "main"),
        ("syarat", "2", "syarat/2", "utter_menu_syarat_2", "syarat"),
    ],
)
def test_menu_positions(
    category: str | None, page: str | None, position: str, response: str, up: str
) -> None:
    assert menu_position(category, page) == position
    assert menu_response(position) == response
    assert parent(position) == up


def test_what_the_previous_turn_offered_and_the_streak() -> None:
    events = load_snapshot("tracker_number_after_did_you_mean")["events"]
    assert offered_last_turn(events) == [
        '/faq_choice{"topic":"biaya"}',
        '/faq_choice{"topic":"halal"}',
        "/show_menu",
    ]
    assert previous_streak(events) == 1
    first_turn = load_snapshot("tracker_nlu_fallback")["events"]
    assert offered_last_turn(first_turn) is None and previous_streak(first_turn) == 0


def test_every_topic_has_a_short_title_in_the_menus() -> None:
    titles = topic_titles(load_snapshot("domain_menu"))
    assert len(titles) == 39
    assert all(len(title) <= 20 for title in titles.values())


def test_buttons_a_rule_showed_count_as_offered() -> None:
    """More than ten options reach WhatsApp as numbered text: the number typed back picks one."""
    topics = [f"topik_{number}" for number in range(1, 13)]
    shown = [{"title": topic, "payload": faq_payload(topic)} for topic in topics]
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "menu lengkap"},
        {"event": "action", "name": "utter_all_topics"},
        {"event": "bot", "text": "Semua topik", "data": {"buttons": shown}},
        {"event": "bot", "text": "Ada lagi?", "data": {}},
        {"event": "user", "text": "11"},
    ]
    assert offered_last_turn(events) == [faq_payload(topic) for topic in topics]
    without_buttons = [event for event in events if event.get("event") != "bot"]
    assert offered_last_turn(without_buttons) is None
