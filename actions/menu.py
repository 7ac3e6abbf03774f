"""The fallback menu: categories, their topics, "did you mean", and typed option numbers.

The menus are domain responses (``rasa_project/domain/menu.yml``). Each action that shows options
remembers their payloads (slot ``offered_options``), so a typed number picks the same thing as a
tap on the button with that number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import (
    FAQ_CHOICE,
    HANDOFF_REQUESTED,
    MAIN,
    MAIN_MENU_RESPONSE,
    MENU_POSITION,
    MORE_OPTIONS,
    OFFERED_OPTIONS,
    SHOW_MENU,
    Choice,
    faq_payload,
    faq_response,
    is_back,
    latest_user_metadata,
    menu_position,
    menu_response,
    numbered,
    offered_last_turn,
    parent,
    parse_payload,
    payloads,
    response_buttons,
    shown_position_last_turn,
    topic_titles,
    typed_number,
)
from actions.handoff import release_handoff, request_handoff
from actions.identity import forget_identity_if_any

DID_YOU_MEAN_RESPONSE = "utter_did_you_mean"
# The variable of utter_did_you_mean that Rasa fills with the numbered options: a name the response
# does not use reaches the person as a literal "{options}" (tests/rasa_project/test_rendered_responses.py)
DID_YOU_MEAN_VARIABLE = "options"
# WhatsApp's reply buttons: more become a list, one more tap for the recipient
MAX_DID_YOU_MEAN_BUTTONS = 3
UNKNOWN_OPTION_RESPONSE = "utter_option_unknown"
FALLBACK_MENU_RESPONSE = "utter_uncertain_answer"
SCHEDULE_FORM = "schedule_form"
# WhatsApp message types that are no text: the channel sends them as /show_menu, and during a
# handoff they are most likely meant for the officer (a photo of a certificate, ...)
NON_TEXT_TYPES = frozenset(
    {"image", "audio", "video", "sticker", "document", "location", "contacts", "reaction"}
)


def has_response(domain: dict[str, Any], name: str) -> bool:
    return name in (domain.get("responses") or {})


def show_menu(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    position: str = MAIN,
    response: str | None = None,
) -> list[EventType]:
    """A menu (``response`` overrides its text, e.g. the fallback menu), remembered for typed numbers."""
    if not has_response(domain, menu_response(position)):
        position = MAIN
    name = response or menu_response(position)
    dispatcher.utter_message(response=name)
    return [
        SlotSet(OFFERED_OPTIONS, payloads(response_buttons(domain, name))),
        SlotSet(MENU_POSITION, position),
    ]


def utter_answer(dispatcher: CollectingDispatcher, topic: str) -> None:
    """A FAQ answer with the way on after it: the one place FAQ answers are sent from.

    Rasa renders the response and adds the action's buttons to it (``RemoteAction._utter_responses``),
    so every answer ends with the same "Menu lainnya" button, whatever its text: on WhatsApp one
    bubble with a reply button under it.
    """
    dispatcher.utter_message(response=faq_response(topic), buttons=[dict(MORE_OPTIONS)])


def answer_topic(dispatcher: CollectingDispatcher, domain: dict[str, Any], topic: str) -> list[EventType]:
    """The topic's answer; a number typed next picks from the main menu (the answer shows no numbers)."""
    if not has_response(domain, faq_response(topic)):
        return show_menu(dispatcher, domain)
    utter_answer(dispatcher, topic)
    return [SlotSet(OFFERED_OPTIONS, payloads(response_buttons(domain, MAIN_MENU_RESPONSE)))]


def offer_topics(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], topics: Sequence[str]
) -> list[EventType]:
    """ "Apakah maksud Anda:" with the topics (≤ 3), as buttons and numbered.

    At most three buttons in all, so WhatsApp shows them as reply buttons, one tap away, not
    behind a list: "Menu lainnya" takes a free place; the text always says *menu* works.
    """
    titles = topic_titles(domain)
    buttons = [{"title": titles[topic], "payload": faq_payload(topic)} for topic in topics if topic in titles]
    if not buttons:
        return show_menu(dispatcher, domain, response=FALLBACK_MENU_RESPONSE)
    buttons = buttons[:MAX_DID_YOU_MEAN_BUTTONS]
    if len(buttons) < MAX_DID_YOU_MEAN_BUTTONS:
        buttons.append(dict(MORE_OPTIONS))
    options = {DID_YOU_MEAN_VARIABLE: numbered([button["title"] for button in buttons])}
    dispatcher.utter_message(response=DID_YOU_MEAN_RESPONSE, buttons=buttons, **options)
    return [SlotSet(OFFERED_OPTIONS, payloads(buttons))]


def requested_position(tracker: Tracker) -> str:
    """Where ``show_menu`` goes: the category of a button, up from the list shown last on "kembali"
    (or back to the list browsed before an answer), else the main menu."""
    category = next(tracker.get_latest_entity_values("menu_category"), None)
    if category:
        return menu_position(str(category), next(tracker.get_latest_entity_values("menu_page"), None))
    if is_back(str(tracker.latest_message.get("text") or "")):
        shown = shown_position_last_turn(tracker.events)
        if shown:
            return parent(shown)
        return str(tracker.get_slot(MENU_POSITION) or MAIN)
    return MAIN


def perform(
    choice: Choice | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[EventType]:
    """What tapping the button with this payload does."""
    if choice is None:
        return show_menu(dispatcher, domain)
    if choice.intent == FAQ_CHOICE and choice.entities.get("topic"):
        return answer_topic(dispatcher, domain, choice.entities["topic"])
    if choice.intent == SHOW_MENU:
        position = menu_position(choice.entities.get("menu_category"), choice.entities.get("menu_page"))
        return show_menu(dispatcher, domain, position)
    if choice.intent == "check_schedule":
        return [FollowupAction(SCHEDULE_FORM)]
    if choice.intent == "human_handoff":
        return request_handoff(dispatcher, tracker)
    return show_menu(dispatcher, domain)


class ActionShowMenu(Action):
    """The menu, a category's topics, or one level back; also hands a waiting conversation back to the bot."""

    def name(self) -> str:
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = forget_identity_if_any(tracker.slots)  # "menu" also ends a schedule check
        if tracker.get_slot(HANDOFF_REQUESTED):
            if latest_user_metadata(tracker.events).get("whatsapp_type") in NON_TEXT_TYPES:
                return []  # a photo or a voice note for the officer: still waiting
            events += release_handoff(dispatcher, tracker)
        return events + show_menu(dispatcher, domain, requested_position(tracker))


class ActionAnswerTopic(Action):
    """A topic picked from a menu or a "did you mean"."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        return answer_topic(dispatcher, domain, str(topic or ""))


class ActionChooseOption(Action):
    """A typed number: the option with that number in the last bot turn (or in the main menu)."""

    def name(self) -> str:
        return "action_choose_option"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        forget = forget_identity_if_any(tracker.slots)  # a menu number also ends a schedule check
        options = offered_last_turn(tracker.events) or payloads(response_buttons(domain, menu_response(MAIN)))
        entity = next(tracker.get_latest_entity_values("option_number"), None)
        number = typed_number(str(entity if entity is not None else tracker.latest_message.get("text") or ""))
        if number is None or not 1 <= number <= len(options):
            dispatcher.utter_message(response=UNKNOWN_OPTION_RESPONSE)
            return [*forget, SlotSet(OFFERED_OPTIONS, options)]
        return [*forget, *perform(parse_payload(options[number - 1]), dispatcher, tracker, domain)]
