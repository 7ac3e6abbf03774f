"""The fallback path: answer, "did you mean" or the menu, never a guessed health answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAnswerFaq, ActionUncertainAnswer
from actions.second_stage import THRESHOLDS
from actions.semantic.faq_index import Match, SemanticFaqSearch

MAIN_MENU_OPTIONS = [
    '/show_menu{"menu_category":"umum"}',
    '/show_menu{"menu_category":"syarat"}',
    '/show_menu{"menu_category":"dosis"}',
    '/show_menu{"menu_category":"layanan"}',
    '/show_menu{"menu_category":"kipi"}',
    '/show_menu{"menu_category":"sertifikat"}',
    "/check_schedule",
    "/human_handoff",
]


class FixedSearch:
    """Stands in for the semantic search: the same ranking for every message, and where it ran."""

    def __init__(self, *ranked: tuple[str, float]) -> None:
        self.ranked = [Match(label, score) for label, score in ranked]
        self.threads: list[str] = []

    def search(self, text: str) -> list[Match]:
        self.threads.append(threading.current_thread().name)
        return list(self.ranked)


def with_text(tracker: Tracker, text: str) -> Tracker:
    tracker.latest_message = {**tracker.latest_message, "text": text}
    return tracker


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


async def run_uncertain(tracker: Tracker, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list:
    return await ActionUncertainAnswer().run(dispatcher, tracker, domain)


async def test_a_paraphrase_the_search_is_sure_of_is_answered(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    small_search: SemanticFaqSearch,
    use_search: Callable[[Any], None],
) -> None:
    use_search(small_search)
    tracker = with_text(tracker_from_snapshot("tracker_nlu_fallback"), "vaksin covid itu bayar apa gratis ya")
    events = await run_uncertain(tracker, dispatcher, menu_domain)
    assert responses(dispatcher) == ["utter_faq/biaya"]
    assert "fallback_streak" not in slots(events), "an answered turn is no uncertain turn"
    assert slots(events) == {"offered_options": MAIN_MENU_OPTIONS}, "a number typed next picks from the menu"


async def test_out_of_scope_gets_the_menu_not_a_faq_answer(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    small_search: SemanticFaqSearch,
    use_search: Callable[[Any], None],
) -> None:
    use_search(small_search)
    tracker = with_text(tracker_from_snapshot("tracker_nlu_fallback"), "resep rendang padang yang enak")
    events = await run_uncertain(tracker, dispatcher, menu_domain)
    assert responses(dispatcher) == ["utter_uncertain_answer"]
    assert slots(events) == {
        "offered_options": MAIN_MENU_OPTIONS,
        "menu_position": "main",
        "fallback_streak": 1.0,
    }


async def test_close_topics_become_a_did_you_mean_with_short_titles(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("out_of_scope", 0.85)))
    events = await run_uncertain(tracker_from_snapshot("tracker_nlu_fallback"), dispatcher, menu_domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [b["title"] for b in message["buttons"]] == ["Biaya vaksin", "Lokasi vaksinasi", "Menu lainnya"]
    assert message["options"] == "1. Biaya vaksin\n2. Lokasi vaksinasi\n3. Menu lainnya"
    assert slots(events) == {
        "offered_options": ['/faq_choice{"topic":"biaya"}', '/faq_choice{"topic":"lokasi"}', "/show_menu"],
        "fallback_streak": 1.0,
    }


async def test_three_close_topics_fill_the_three_reply_buttons(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    """WhatsApp shows three reply buttons at most: a fourth would turn them into a list."""
    use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("faq/halal", 0.9)))
    await run_uncertain(tracker_from_snapshot("tracker_nlu_fallback"), dispatcher, menu_domain)
    [message] = dispatcher.messages
    titles = [button["title"] for button in message["buttons"]]
    assert titles == ["Biaya vaksin", "Lokasi vaksinasi", "Kehalalan vaksin"]
    assert message["options"] == "1. Biaya vaksin\n2. Lokasi vaksinasi\n3. Kehalalan vaksin"


async def test_the_search_runs_off_the_event_loop(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    search = FixedSearch(("faq/biaya", 0.99), ("faq/lokasi", 0.5))
    use_search(search)
    await run_uncertain(tracker_from_snapshot("tracker_nlu_fallback"), dispatcher, menu_domain)
    assert search.threads and search.threads[0] != threading.current_thread().name


async def test_the_second_uncertain_turn_in_a_row_offers_an_officer(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    use_search(FixedSearch(("out_of_scope", 0.93), ("faq/biaya", 0.86)))
    events = await run_uncertain(
        tracker_from_snapshot("tracker_fallback_second_in_a_row"), dispatcher, menu_domain
    )
    assert responses(dispatcher) == ["utter_handoff_offer"]
    assert slots(events) == {"offered_options": ["/human_handoff", "/show_menu"], "fallback_streak": 2.0}


async def test_a_did_you_mean_at_the_second_uncertain_turn_offers_the_officer_too(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    """Close topics stay on offer at the second uncertain turn; the officer takes the free place."""
    use_search(FixedSearch(("faq/biaya", 0.905), ("faq/halal", 0.9)))
    events = await run_uncertain(
        tracker_from_snapshot("tracker_fallback_second_in_a_row"), dispatcher, menu_domain
    )
    assert responses(dispatcher) == ["utter_did_you_mean_or_officer"]
    assert [button["title"] for button in dispatcher.messages[0]["buttons"]] == [
        "Biaya vaksin",
        "Kehalalan vaksin",
        "Minta petugas",
    ]
    assert slots(events)["fallback_streak"] == 2.0


@pytest.mark.parametrize("search", [None, FixedSearch(("faq/biaya", 0.99), ("faq/lokasi", 0.5))])
async def test_without_words_or_without_the_search_the_menu(
    search: FixedSearch | None,
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    use_search(search)
    tracker = tracker_from_snapshot("tracker_nlu_fallback")
    if search is not None:
        tracker = with_text(tracker, "/nlu_fallback")
    await run_uncertain(tracker, dispatcher, menu_domain)
    assert responses(dispatcher) == ["utter_uncertain_answer"]


async def test_a_confident_answer_the_search_agrees_with_is_given(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    small_search: SemanticFaqSearch,
    use_search: Callable[[Any], None],
) -> None:
    use_search(small_search)
    events = await ActionAnswerFaq().run(
        dispatcher, tracker_from_snapshot("tracker_faq_confident"), menu_domain
    )
    assert responses(dispatcher) == ["utter_faq/biaya"]
    assert dispatcher.messages[0]["buttons"] == [{"title": "Menu lainnya", "payload": "/show_menu"}]
    assert slots(events) == {"offered_options": MAIN_MENU_OPTIONS}


async def test_a_confident_answer_the_search_objects_to_becomes_a_did_you_mean(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    small_search: SemanticFaqSearch,
    use_search: Callable[[Any], None],
) -> None:
    use_search(small_search)
    tracker = tracker_from_snapshot("tracker_faq_answer_in_doubt")  # Rasa: biaya (0.6); it asks where
    await ActionAnswerFaq().run(dispatcher, tracker, menu_domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    titles = [button["title"] for button in message["buttons"]]
    assert titles[0] == "Biaya vaksin" and "Lokasi vaksinasi" in titles
    assert len(titles) <= 3, "WhatsApp shows at most three reply buttons"


async def test_the_answer_check_can_be_switched_off(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANYAVAKSIN_ANSWER_CHECK", "0")
    use_search(FixedSearch(("faq/lokasi", 0.95), ("faq/biaya", 0.80)))
    await ActionAnswerFaq().run(dispatcher, tracker_from_snapshot("tracker_faq_answer_in_doubt"), menu_domain)
    assert responses(dispatcher) == ["utter_faq/biaya"]


async def test_an_answer_rasa_is_trusted_with_is_given_without_embedding_the_message(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
) -> None:
    """At Rasa's confidence >= trust_min the check could not change the answer: it does not run (#14)."""
    search = FixedSearch(("faq/lokasi", 0.95), ("faq/biaya", 0.80))  # it would object
    use_search(search)
    tracker = tracker_from_snapshot("tracker_faq_answer_in_doubt")  # Rasa: biaya (0.6)
    selector = tracker.latest_message["response_selector"]["faq"]
    selector["ranking"][0] = {**selector["ranking"][0], "confidence": THRESHOLDS.trust_min}
    await ActionAnswerFaq().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_faq/biaya"]
    assert search.threads == [], "the message was embedded for a check that could not change the answer"
