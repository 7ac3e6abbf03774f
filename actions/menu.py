"""The fallback menu: categories, their topics, "did you mean", typed option numbers, and the
officer offered after the second uncertain turn in a row.

The menus are domain responses (``rasa_project/domain/menu.yml``). Each action that shows options
remembers their payloads (slot ``offered_options``), so a typed number picks the same thing as a
tap on the button with that number.

Two rules hold for everything sent from here (issue #12):

- **An uncertain turn** (the fallback menu, a "did you mean", out of scope, a "did you mean"
  declined, a number that is no option) counts in slot ``fallback_streak``; from the second in a
  row the officer is offered (``uncertain_turn``): a person going in circles gets a human, not the
  same menu again.
- **Never the same message twice in a row** (``actions.choices.repeats``): a list shown again right
  after itself becomes a short pointer to it, the same "did you mean" becomes the officer offer, the
  same answer becomes "the answer above still holds", the offer itself a shorter reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import (
    FALLBACK_STREAK,
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
    previous_streak,
    repeats,
    response_buttons,
    shown_position_last_turn,
    topic_titles,
    typed_number,
)
from actions.handoff import OFFER_RESPONSE, offer_handoff, release_handoff, request_handoff
from actions.identity import forget_identity_if_any

DID_YOU_MEAN_RESPONSE = "utter_did_you_mean"
# The variable of utter_did_you_mean that Rasa fills with the numbered options: a name the response
# does not use reaches the person as a literal "{options}" (tests/rasa_project/test_rendered_responses.py)
DID_YOU_MEAN_VARIABLE = "options"
# WhatsApp's reply buttons: more become a list, one more tap for the recipient
MAX_DID_YOU_MEAN_BUTTONS = 3
UNKNOWN_OPTION_RESPONSE = "utter_option_unknown"
FALLBACK_MENU_RESPONSE = "utter_uncertain_answer"
OUT_OF_SCOPE_RESPONSE = "utter_out_of_scope"
# The second uncertain turn in a row: a "did you mean" whose last button asks for an officer.
DID_YOU_MEAN_OFFICER_RESPONSE = "utter_did_you_mean_or_officer"
OFFICER_OPTION = {"title": "Minta petugas", "payload": "/human_handoff"}
HANDOFF_AFTER = 2  # uncertain turns in a row
# Said instead of a message the bot has just sent (actions.choices.repeats).
OFFER_AGAIN_RESPONSE = "utter_handoff_offer_again"
ANSWER_AGAIN_RESPONSE = "utter_answer_still_holds"
SAME_LIST_RESPONSE = "utter_same_list"
SHORTER = {
    FALLBACK_MENU_RESPONSE: "utter_uncertain_answer_again",
    OUT_OF_SCOPE_RESPONSE: "utter_out_of_scope_again",
}
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


def answer_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], topic: str
) -> list[EventType]:
    """The topic's answer; a number typed next picks from the main menu (the answer shows no numbers).

    The same question again right after its answer gets no second copy of it: the person either
    did not find what they wanted in it or missed that it arrived, so they are pointed at it and
    offered an officer.
    """
    if not has_response(domain, faq_response(topic)):
        return show_menu(dispatcher, domain)
    if repeats(tracker.events, faq_response(topic)):
        buttons = [dict(OFFICER_OPTION), dict(MORE_OPTIONS)]
        dispatcher.utter_message(response=ANSWER_AGAIN_RESPONSE, buttons=buttons)
        return [SlotSet(OFFERED_OPTIONS, payloads(buttons))]
    utter_answer(dispatcher, topic)
    return [SlotSet(OFFERED_OPTIONS, payloads(response_buttons(domain, MAIN_MENU_RESPONSE)))]


def offer_topics(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    topics: Sequence[str],
    officer: bool = False,
) -> list[EventType] | None:
    """ "Apakah maksud Anda:" with the topics, as buttons and numbered; None when there is nothing
    to offer, or when it would be the "did you mean" just sent.

    At most three buttons in all, so WhatsApp shows them as reply buttons, one tap away, not
    behind a list: "Menu lainnya" takes a free place; the text always says *menu* works. With
    ``officer`` (the second uncertain turn in a row) the last button asks for an officer instead.
    """
    titles = topic_titles(domain)
    buttons = [{"title": titles[topic], "payload": faq_payload(topic)} for topic in topics if topic in titles]
    if not buttons:
        return None
    if officer:
        response = DID_YOU_MEAN_OFFICER_RESPONSE
        buttons = [*buttons[: MAX_DID_YOU_MEAN_BUTTONS - 1], dict(OFFICER_OPTION)]
    else:
        response = DID_YOU_MEAN_RESPONSE
        buttons = buttons[:MAX_DID_YOU_MEAN_BUTTONS]
        if len(buttons) < MAX_DID_YOU_MEAN_BUTTONS:
            buttons.append(dict(MORE_OPTIONS))
    options = {DID_YOU_MEAN_VARIABLE: numbered([button["title"] for button in buttons])}
    if repeats(tracker.events, response, options):
        return None
    dispatcher.utter_message(response=response, buttons=buttons, **options)
    return [SlotSet(OFFERED_OPTIONS, payloads(buttons))]


def offer_officer(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[EventType]:
    """The hotline and a button that asks for an officer here; a shorter reminder right after it."""
    if not repeats(tracker.events, OFFER_RESPONSE):
        return offer_handoff(dispatcher, domain)
    buttons = response_buttons(domain, OFFER_RESPONSE)
    dispatcher.utter_message(response=OFFER_AGAIN_RESPONSE, buttons=buttons)
    return [SlotSet(OFFERED_OPTIONS, payloads(buttons))]


def show_menu_once(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    position: str = MAIN,
    response: str | None = None,
) -> list[EventType]:
    """``show_menu``, unless the same options were just shown: then a short pointer to them.

    The buttons come again (on WhatsApp the list opens with one tap), the long text does not. A
    pointer that was itself just sent gives way to the whole list again.
    """
    if not has_response(domain, menu_response(position)):
        position = MAIN
    name = response or menu_response(position)
    buttons = response_buttons(domain, name)
    shorter = SHORTER.get(name, SAME_LIST_RESPONSE)
    if not repeats(tracker.events, name, options=payloads(buttons)) or repeats(tracker.events, shorter):
        return show_menu(dispatcher, domain, position, response)
    # Titles only: Rasa fills {variables} in the response's own buttons, not in those an action adds.
    titles = [{"title": button["title"], "payload": button["payload"]} for button in buttons]
    dispatcher.utter_message(response=shorter, buttons=titles)
    return [SlotSet(OFFERED_OPTIONS, payloads(buttons)), SlotSet(MENU_POSITION, position)]


def uncertain_turn(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    topics: Sequence[str] = (),
    menu: str = FALLBACK_MENU_RESPONSE,
) -> list[EventType]:
    """A turn where the assistant could not give what was asked: close topics as a "did you mean",
    else ``menu``; from the second such turn in a row the officer is offered (in the "did you
    mean" when there are close topics). Counted in ``fallback_streak``; any other turn ends the run.
    """
    streak = previous_streak(tracker.events) + 1
    officer = streak >= HANDOFF_AFTER
    events = offer_topics(dispatcher, tracker, domain, topics, officer) if topics else None
    if events is None:
        if officer:
            events = offer_officer(dispatcher, tracker, domain)
        else:
            events = show_menu_once(dispatcher, tracker, domain, response=menu)
    return [*events, SlotSet(FALLBACK_STREAK, float(streak))]


def show_list(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], position: str
) -> list[EventType]:
    """A list asked for (``menu``, ``kembali``, a category): neither progress nor a new failure, so
    a run of uncertain turns goes on through it (a fallback, ``menu``, another fallback: the officer)."""
    events = show_menu_once(dispatcher, tracker, domain, position)
    streak = previous_streak(tracker.events)
    return [*events, SlotSet(FALLBACK_STREAK, float(streak))] if streak else events


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
        return answer_topic(dispatcher, tracker, domain, choice.entities["topic"])
    if choice.intent == SHOW_MENU:
        position = menu_position(choice.entities.get("menu_category"), choice.entities.get("menu_page"))
        return show_list(dispatcher, tracker, domain, position)
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
        return events + show_list(dispatcher, tracker, domain, requested_position(tracker))


class ActionAnswerTopic(Action):
    """A topic picked from a menu or a "did you mean"."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        return answer_topic(dispatcher, tracker, domain, str(topic or ""))


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
            return [*forget, *self._unknown(dispatcher, tracker, domain, options)]
        return [*forget, *perform(parse_payload(options[number - 1]), dispatcher, tracker, domain)]

    @staticmethod
    def _unknown(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], options: list[str]
    ) -> list[EventType]:
        """A number that is no option: most likely a slip, so the options stay and a run of uncertain
        turns goes on through it; a second one in a row is no slip: the officer is offered."""
        streak = previous_streak(tracker.events)
        if repeats(tracker.events, UNKNOWN_OPTION_RESPONSE):
            return [*offer_officer(dispatcher, tracker, domain), SlotSet(FALLBACK_STREAK, float(streak + 1))]
        dispatcher.utter_message(response=UNKNOWN_OPTION_RESPONSE)
        kept = [SlotSet(FALLBACK_STREAK, float(streak))] if streak else []
        return [SlotSet(OFFERED_OPTIONS, options), *kept]
