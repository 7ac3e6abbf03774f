"""The fallback menu: categories, topics, back, typed numbers; and the handoff to an officer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffWait, ActionReleaseHandoff, ActionRequestHandoff
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


def typed(tracker: Tracker, text: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
    intent = "choose_option" if text.strip().isdigit() else "show_menu"
    tracker.latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    tracker.events[-1] = {"event": "user", "text": text, "parse_data": tracker.latest_message}
    return tracker


async def test_menu_shows_the_categories_and_remembers_them(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_menu_category_button"), "menu")
    events = await ActionShowMenu().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_menu"]
    assert len(slots(events)["offered_options"]) == 8
    assert slots(events)["menu_position"] == "main"


async def test_a_category_button_lists_its_topics(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    events = await ActionShowMenu().run(
        dispatcher, tracker_from_snapshot("tracker_menu_category_button"), menu_domain
    )
    assert responses(dispatcher) == ["utter_menu_syarat"]
    offered = slots(events)["offered_options"]
    assert len(offered) == 10 and offered[0] == '/faq_choice{"topic":"syarat_usia"}'
    assert slots(events)["menu_position"] == "syarat"


async def test_kembali_goes_one_level_up_from_the_list_shown_last(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    events = await ActionShowMenu().run(
        dispatcher, tracker_from_snapshot("tracker_back_from_a_list"), menu_domain
    )
    assert responses(dispatcher) == ["utter_menu_syarat"]
    assert slots(events)["menu_position"] == "syarat"


async def test_kembali_after_an_answer_returns_to_the_list_browsed(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_faq_confident"), "kembali")
    tracker.slots["menu_position"] = "dosis"
    await ActionShowMenu().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_menu_dosis"]


async def test_a_typed_number_picks_that_did_you_mean_option(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_number_after_did_you_mean")
    await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_faq/halal"]


async def test_an_answer_carries_the_way_on_and_a_number_typed_next_picks_from_the_menu(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    """The answer's one button leads to the menu; "2" typed after it is the menu's 2nd entry, as before."""
    tracker = tracker_from_snapshot("tracker_number_after_did_you_mean")
    events = await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    [answer] = dispatcher.messages
    assert answer["buttons"] == [{"title": "Menu lainnya", "payload": "/show_menu"}]
    # the next turn, as Rasa stores it: the answer (with its button), the action's events, then "2"
    tracker.events += [
        {"event": "bot", "text": "(jawaban)", "data": {"buttons": answer["buttons"]}},
        *events,
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "2",
            "parse_data": {"intent": {"name": "choose_option", "confidence": 1.0}},
        },
    ]
    tracker = typed(tracker, "2")
    following = CollectingDispatcher()
    await ActionChooseOption().run(following, tracker, menu_domain)
    assert responses(following) == ["utter_menu_syarat"]


async def test_the_last_did_you_mean_option_is_the_menu(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_number_after_did_you_mean"), "3")
    await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_menu"]


async def test_a_number_not_offered_is_refused_and_the_options_stay(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_number_after_did_you_mean"), "9")
    events = await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_option_unknown"]
    assert slots(events)["offered_options"][1] == '/faq_choice{"topic":"halal"}'


async def test_a_number_in_a_topic_list_answers_that_topic(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_back_from_a_list"), "2")
    await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_faq/obat_rutin"]


@pytest.mark.parametrize(
    ("number", "expected"),
    [("2", ["utter_menu_syarat"]), ("6", ["utter_menu_sertifikat"]), ("8", ["utter_handoff_requested"])],
)
async def test_without_options_shown_a_number_picks_from_the_main_menu(
    number: str,
    expected: list[str],
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_faq_confident"), number)
    await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == expected


async def test_the_schedule_option_starts_the_schedule_check(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_faq_confident"), "7")
    events = await ActionChooseOption().run(dispatcher, tracker, menu_domain)
    assert events == [{"event": "followup", "name": "schedule_form", "timestamp": None}]


@pytest.mark.parametrize(("topic", "expected"), [("lansia", "utter_faq/lansia"), ("nope", "utter_menu")])
async def test_a_topic_button_answers_it(
    topic: str,
    expected: str,
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_faq_confident")
    tracker.latest_message = {
        "text": f'/faq_choice{{"topic":"{topic}"}}',
        "entities": [{"entity": "topic", "value": topic}],
    }
    await ActionAnswerTopic().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == [expected]


async def test_asking_for_an_officer_marks_the_conversation(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    events = await ActionRequestHandoff().run(
        dispatcher, tracker_from_snapshot("tracker_faq_confident"), menu_domain
    )
    assert responses(dispatcher) == ["utter_handoff_requested"]
    assert slots(events)["handoff_requested"] is True


async def test_while_waiting_the_bot_is_silent(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_menu_while_waiting_for_officer")
    assert await ActionHandoffWait().run(dispatcher, tracker, menu_domain) == []
    [mark] = dispatcher.messages  # no words: only the mark that keeps the number for the officer
    assert mark["handoff"] == "open" and mark["text"] is None and mark["response"] is None


async def test_menu_hands_a_waiting_conversation_back_to_the_bot(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_menu_while_waiting_for_officer")
    events = await ActionShowMenu().run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == ["utter_handoff_released", "utter_menu"]
    assert slots(events)["handoff_requested"] is False


async def test_a_photo_for_the_officer_does_not_end_the_wait(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_image_while_waiting_for_officer")
    assert await ActionShowMenu().run(dispatcher, tracker, menu_domain) == []
    assert dispatcher.messages == []


async def test_an_officer_releases_the_conversation(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = tracker_from_snapshot("tracker_menu_while_waiting_for_officer")
    events = await ActionReleaseHandoff().run(dispatcher, tracker, menu_domain)
    assert slots(events) == {"handoff_requested": False}
    idle = tracker_from_snapshot("tracker_faq_confident")
    assert await ActionReleaseHandoff().run(CollectingDispatcher(), idle, menu_domain) == []


IDENTITY_CLEARED = {"schedule_nik": None, "schedule_birth_date": None, "schedule_challenge": None}


@pytest.mark.parametrize(
    ("typed_text", "action", "expected"),
    [("menu", ActionShowMenu(), ["utter_menu"]), ("2", ActionChooseOption(), ["utter_menu_syarat"])],
)
async def test_menu_or_a_menu_number_during_the_schedule_check_does_that_and_forgets_the_nik(
    typed_text: str,
    action: ActionShowMenu | ActionChooseOption,
    expected: list[str],
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    """Issue #12: inside the check "1" was read as an NIK, and "menu" came back to the check.
    (A rule ends the form first: tests/conversations/test_schedule_form.yml.)"""
    tracker = typed(tracker_from_snapshot("tracker_schedule_asks_birth_date"), typed_text)
    events = await action.run(dispatcher, tracker, menu_domain)
    assert responses(dispatcher) == expected
    assert IDENTITY_CLEARED.items() <= slots(events).items()


async def test_the_menu_outside_the_check_sets_no_schedule_slot(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    menu_domain: dict[str, Any],
) -> None:
    tracker = typed(tracker_from_snapshot("tracker_menu_category_button"), "menu")
    events = await ActionShowMenu().run(dispatcher, tracker, menu_domain)
    assert not {"schedule_nik", "schedule_birth_date"} & set(slots(events))
