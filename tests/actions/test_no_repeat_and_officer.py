"""Issue #12 as a recipient lives it: several turns in a row, each run by the real action, each bot
message added to the tracker the way Rasa adds it (``RemoteAction._utter_responses``: the response
name as ``utter_action`` and the action's variables in the metadata, the domain's buttons then the
action's in ``data.buttons``).

- The second uncertain turn in a row offers an officer, whatever the two turns were (the fallback
  menu, out of scope, a "did you mean" declined, "hmm"), instead of the same 8-item menu again.
- The bot never sends the same message twice in a row.

Rasa's rules pick the action for each turn here as data/rules/*.yml do; tests/conversations checks
those choices with the trained model.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAnswerFaq, ActionDeclined, ActionOutOfScope, ActionUncertainAnswer
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu
from actions.semantic.faq_index import Match

OFFICER_BUTTON = {"title": "Minta petugas", "payload": "/human_handoff"}
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
    """The semantic search's ranking, fixed: which path runs is the test's choice."""

    def __init__(self, *ranked: tuple[str, float]) -> None:
        self.ranked = [Match(label, score) for label, score in ranked]

    def search(self, text: str) -> list[Match]:
        return list(self.ranked)


NOTHING_CLOSE = FixedSearch(("out_of_scope", 0.95), ("faq/biaya", 0.80))
TWO_CLOSE = FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("out_of_scope", 0.85))
BIAYA = FixedSearch(("faq/biaya", 0.95), ("faq/halal", 0.80))


@dataclass
class Chat:
    """A conversation the real actions answer, kept as Rasa keeps it."""

    domain: dict[str, Any]
    events: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"event": "action", "name": "action_session_start"},
            {"event": "session_started"},
            {"event": "action", "name": "action_listen"},
        ]
    )
    slots: dict[str, Any] = field(default_factory=dict)
    latest: dict[str, Any] = field(default_factory=dict)

    def says(self, text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> None:
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
            "entities": entities or [],
        }
        if intent == "faq":
            parse["response_selector"] = {
                "all_retrieval_intents": ["faq"],
                "faq": {
                    "response": {"intent_response_key": "faq/biaya", "confidence": 0.95},
                    "ranking": [{"intent_response_key": "faq/biaya", "confidence": 0.95}],
                },
            }
        self.latest = parse
        self.events.append({"event": "user", "text": text, "parse_data": parse})

    async def bot(self, action: Action) -> list[dict[str, Any]]:
        """Runs the action on the conversation so far; returns the messages it sent, as Rasa keeps them."""
        state = {
            "sender_id": "no-repeat",
            "slots": dict(self.slots),
            "latest_message": self.latest,
            "events": copy.deepcopy(self.events),
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        dispatcher = CollectingDispatcher()
        returned = await action.run(dispatcher, Tracker.from_dict(state), self.domain)
        sent = [self._as_rasa_keeps_it(message) for message in json.loads(json.dumps(dispatcher.messages))]
        self.events.append({"event": "action", "name": action.name()})
        self.events += sent
        for event in returned:
            self.events.append(dict(event))
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events.append({"event": "action", "name": "action_listen"})
        return sent

    def _as_rasa_keeps_it(self, message: dict[str, Any]) -> dict[str, Any]:
        response = message.pop("response", None)
        variation = (self.domain["responses"].get(response) or [{}])[0] if response else {}
        buttons = [*(variation.get("buttons") or []), *(message.pop("buttons", None) or [])]
        variables = {key: value for key, value in message.items() if value and key != "text"}
        return {
            "event": "bot",
            "text": variation.get("text") or message.get("text"),
            "data": {"buttons": buttons or None},
            "metadata": {"utter_action": response, **variables} if response else variables,
        }


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    return [message["metadata"].get("utter_action") for message in messages]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return list(message["data"]["buttons"] or [])


@pytest.fixture
def chat(menu_domain: dict[str, Any]) -> Chat:
    return Chat(menu_domain)


async def test_the_issues_conversation_offers_an_officer_at_the_second_uncertain_turn(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    """Issue #12: a fallback, "terus gimana dong", "kembali" gave the same 8-item menu three times."""
    use_search(NOTHING_CLOSE)
    chat.says("kalo abis vaksin boleh main layangan ga", "nlu_fallback")
    assert responses(await chat.bot(ActionUncertainAnswer())) == ["utter_uncertain_answer"]
    chat.says("terus gimana dong", "nlu_fallback")
    [offer] = await chat.bot(ActionUncertainAnswer())
    assert offer["metadata"]["utter_action"] == "utter_handoff_offer"
    assert OFFICER_BUTTON in buttons(offer)
    assert "{kontak_halo_kemenkes}" in offer["text"], "the hotline, from the one contact block"
    chat.says("kembali", "show_menu")
    [menu] = await chat.bot(ActionShowMenu())
    assert menu["metadata"]["utter_action"] == "utter_menu", "the menu, asked for after the offer"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("out_of_scope", "nlu_fallback"),
        ("nlu_fallback", "out_of_scope"),  # "hmm", "???" are out of scope to the NLU
        ("out_of_scope", "out_of_scope"),
    ],
)
async def test_out_of_scope_is_an_uncertain_turn_too(
    first: str, second: str, chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(NOTHING_CLOSE)
    action = {"out_of_scope": ActionOutOfScope(), "nlu_fallback": ActionUncertainAnswer()}
    chat.says("jual pulsa murah dong", first)
    [menu] = await chat.bot(action[first])
    assert [b["payload"] for b in buttons(menu)] == MAIN_MENU_OPTIONS
    chat.says("hmm", second)
    assert responses(await chat.bot(action[second])) == ["utter_handoff_offer"]
    assert chat.slots["fallback_streak"] == 2.0
    assert chat.slots["offered_options"] == ["/human_handoff", "/show_menu"]


async def test_a_did_you_mean_declined_offers_an_officer(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(TWO_CLOSE)
    chat.says("vaksin di mana bayar ga", "nlu_fallback")
    assert responses(await chat.bot(ActionUncertainAnswer())) == ["utter_did_you_mean"]
    chat.says("bukan", "deny")
    [offer] = await chat.bot(ActionDeclined())
    assert offer["metadata"]["utter_action"] == "utter_handoff_offer"


async def test_no_after_an_answer_is_an_ordinary_no(chat: Chat, use_search: Callable[[Any], None]) -> None:
    use_search(BIAYA)
    chat.says("vaksin bayar ga?", "faq")
    assert responses(await chat.bot(ActionAnswerFaq())) == ["utter_faq/biaya"]
    chat.says("nggak", "deny")
    assert responses(await chat.bot(ActionDeclined())) == ["utter_deny"]
    assert "fallback_streak" not in chat.slots


async def test_close_topics_at_the_second_uncertain_turn_come_with_the_officer_button(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    """The topics stay (they may be it); the free place asks for an officer instead of the menu."""
    use_search(NOTHING_CLOSE)
    chat.says("asdf vaksin", "nlu_fallback")
    await chat.bot(ActionUncertainAnswer())
    use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("faq/halal", 0.9)))
    chat.says("vaksin di mana bayar ga", "nlu_fallback")
    [message] = await chat.bot(ActionUncertainAnswer())
    assert message["metadata"]["utter_action"] == "utter_did_you_mean_or_officer"
    assert [b["title"] for b in buttons(message)] == ["Biaya vaksin", "Lokasi vaksinasi", "Minta petugas"]
    assert message["metadata"]["options"] == "1. Biaya vaksin\n2. Lokasi vaksinasi\n3. Minta petugas"
    assert "{kontak_halo_kemenkes}" in message["text"]


async def test_the_same_did_you_mean_is_not_asked_twice(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(TWO_CLOSE)
    said = []
    for _ in range(4):
        chat.says("vaksin di mana bayar ga", "nlu_fallback")
        said += responses(await chat.bot(ActionUncertainAnswer()))
    assert said == [
        "utter_did_you_mean",
        "utter_did_you_mean_or_officer",
        "utter_handoff_offer",
        "utter_did_you_mean_or_officer",
    ]


async def test_the_offer_is_not_made_twice_in_the_same_words(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(NOTHING_CLOSE)
    said = []
    for _ in range(4):
        chat.says("hmm", "out_of_scope")
        said += responses(await chat.bot(ActionOutOfScope()))
    assert said == [
        "utter_out_of_scope",
        "utter_handoff_offer",
        "utter_handoff_offer_again",
        "utter_handoff_offer",
    ]
    assert chat.slots["offered_options"] == ["/human_handoff", "/show_menu"]


async def test_the_short_offer_keeps_both_buttons(chat: Chat, use_search: Callable[[Any], None]) -> None:
    use_search(NOTHING_CLOSE)
    for _ in range(2):
        chat.says("hmm", "out_of_scope")
        await chat.bot(ActionOutOfScope())
    chat.says("hmm", "out_of_scope")
    [again] = await chat.bot(ActionOutOfScope())
    assert again["metadata"]["utter_action"] == "utter_handoff_offer_again"
    assert [b["payload"] for b in buttons(again)] == ["/human_handoff", "/show_menu"]
    assert chat.slots["offered_options"] == ["/human_handoff", "/show_menu"]


@pytest.mark.parametrize("typed", ["menu", "kembali"])
async def test_the_menu_right_after_the_menu_points_at_it(typed: str, chat: Chat) -> None:
    chat.says("menu", "show_menu")
    assert responses(await chat.bot(ActionShowMenu())) == ["utter_menu"]
    chat.says(typed, "show_menu")
    [short] = await chat.bot(ActionShowMenu())
    assert short["metadata"]["utter_action"] == "utter_same_list"
    assert [b["payload"] for b in buttons(short)] == MAIN_MENU_OPTIONS, "one tap opens the list again"
    assert chat.slots["offered_options"] == MAIN_MENU_OPTIONS, "a typed number still picks from it"
    chat.says(typed, "show_menu")
    assert responses(await chat.bot(ActionShowMenu())) == ["utter_menu"], "never the pointer twice"


async def test_the_fallback_menu_right_after_the_menu_is_short(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(NOTHING_CLOSE)
    chat.says("menu", "show_menu")
    await chat.bot(ActionShowMenu())
    chat.says("blablabla", "nlu_fallback")
    [short] = await chat.bot(ActionUncertainAnswer())
    assert short["metadata"]["utter_action"] == "utter_uncertain_answer_again"
    assert [b["payload"] for b in buttons(short)] == MAIN_MENU_OPTIONS
    chat.says("jual pulsa", "out_of_scope")
    assert responses(await chat.bot(ActionOutOfScope())) == ["utter_handoff_offer"]


async def test_out_of_scope_right_after_the_menu_is_short(chat: Chat) -> None:
    chat.says("menu", "show_menu")
    await chat.bot(ActionShowMenu())
    chat.says("jual pulsa", "out_of_scope")
    assert responses(await chat.bot(ActionOutOfScope())) == ["utter_out_of_scope_again"]


async def test_a_menu_between_two_fallbacks_does_not_reset_the_count(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(NOTHING_CLOSE)
    chat.says("blablabla", "nlu_fallback")
    await chat.bot(ActionUncertainAnswer())
    chat.says("menu", "show_menu")
    assert responses(await chat.bot(ActionShowMenu())) == ["utter_same_list"]
    chat.says("blablabla lagi", "nlu_fallback")
    assert responses(await chat.bot(ActionUncertainAnswer())) == ["utter_handoff_offer"]


async def test_an_answer_ends_a_run_of_uncertain_turns(chat: Chat, use_search: Callable[[Any], None]) -> None:
    use_search(NOTHING_CLOSE)
    chat.says("blablabla", "nlu_fallback")
    await chat.bot(ActionUncertainAnswer())
    use_search(BIAYA)
    chat.says("vaksin bayar ga?", "faq")
    assert responses(await chat.bot(ActionAnswerFaq())) == ["utter_faq/biaya"]
    use_search(NOTHING_CLOSE)
    chat.says("blablabla", "nlu_fallback")
    assert responses(await chat.bot(ActionUncertainAnswer())) == ["utter_uncertain_answer"]


async def test_the_same_question_again_gets_no_second_copy_of_the_answer(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    use_search(BIAYA)
    chat.says("vaksin bayar ga?", "faq")
    assert responses(await chat.bot(ActionAnswerFaq())) == ["utter_faq/biaya"]
    chat.says("vaksin bayar ga sih?", "faq")
    [again] = await chat.bot(ActionAnswerFaq())
    assert again["metadata"]["utter_action"] == "utter_answer_still_holds"
    assert buttons(again) == [OFFICER_BUTTON, {"title": "Menu lainnya", "payload": "/show_menu"}]
    assert chat.slots["offered_options"] == ["/human_handoff", "/show_menu"]
    chat.says("/faq_choice", "faq_choice", [{"entity": "topic", "value": "biaya"}])
    assert responses(await chat.bot(ActionAnswerTopic())) == ["utter_faq/biaya"], (
        "asked a third time: the answer"
    )


async def test_a_wrong_number_twice_offers_an_officer(chat: Chat) -> None:
    chat.says("menu", "show_menu")
    await chat.bot(ActionShowMenu())
    number = [{"entity": "option_number", "value": "12"}]
    chat.says("12", "choose_option", number)
    assert responses(await chat.bot(ActionChooseOption())) == ["utter_option_unknown"]
    assert chat.slots["offered_options"] == MAIN_MENU_OPTIONS, "a slip: the options stay"
    chat.says("12", "choose_option", number)
    assert responses(await chat.bot(ActionChooseOption())) == ["utter_handoff_offer"]


async def test_no_action_sends_the_same_message_twice_in_a_row(
    chat: Chat, use_search: Callable[[Any], None]
) -> None:
    """A long, muddled conversation: every message differs from the one before it."""
    turns: list[tuple[str, str, Action, Any]] = [
        ("hmm", "out_of_scope", ActionOutOfScope(), NOTHING_CLOSE),
        ("menu", "show_menu", ActionShowMenu(), None),
        ("menu", "show_menu", ActionShowMenu(), None),
        ("menu", "show_menu", ActionShowMenu(), None),
        ("??", "nlu_fallback", ActionUncertainAnswer(), NOTHING_CLOSE),
        ("??", "nlu_fallback", ActionUncertainAnswer(), NOTHING_CLOSE),
        ("??", "nlu_fallback", ActionUncertainAnswer(), NOTHING_CLOSE),
        ("vaksin bayar", "faq", ActionAnswerFaq(), BIAYA),
        ("vaksin bayar", "faq", ActionAnswerFaq(), BIAYA),
        ("vaksin bayar", "faq", ActionAnswerFaq(), BIAYA),
        ("dimana bayar", "nlu_fallback", ActionUncertainAnswer(), TWO_CLOSE),
        ("dimana bayar", "nlu_fallback", ActionUncertainAnswer(), TWO_CLOSE),
        ("dimana bayar", "nlu_fallback", ActionUncertainAnswer(), TWO_CLOSE),
        ("dimana bayar", "nlu_fallback", ActionUncertainAnswer(), TWO_CLOSE),
    ]
    previous: tuple[Any, ...] | None = None
    for text, intent, action, search in turns:
        use_search(search)
        chat.says(text, intent)
        [message] = await chat.bot(action)
        shown = (message["metadata"].get("utter_action"), message["metadata"].get("options"))
        assert shown != previous, f"{text!r} got {shown} twice in a row"
        previous = shown
