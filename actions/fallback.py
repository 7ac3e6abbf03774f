"""What the assistant does with a FAQ question: answer, ask "did you mean", or show the menu.

- ``action_uncertain_answer`` (``nlu_fallback``: Rasa is not sure) asks the semantic FAQ search
  (``actions.second_stage.decide_uncertain``): one clear topic is answered, close topics are offered
  as "did you mean", anything else gets the fallback menu. The second uncertain turn in a row that
  would get the menu offers an officer instead.
- ``action_answer_faq`` (``faq``: Rasa is sure) gives Rasa's selected answer unless the semantic
  search clearly prefers another topic (``verify_answer``); then it asks "did you mean".

Neither ever guesses a health answer: without the semantic search they answer only what Rasa is
sure about and show the menu otherwise.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import semantic_search
from actions.choices import FALLBACK_STREAK, previous_streak
from actions.handoff import offer_handoff
from actions.menu import FALLBACK_MENU_RESPONSE, answer_topic, offer_topics, show_menu
from actions.second_stage import ANSWER, CLARIFY, Decision, RasaAnswers, decide
from actions.settings import current_settings
from core.parse import FALLBACK_INTENT, RETRIEVAL_INTENT

UNCERTAIN_ANSWER_RESPONSE = FALLBACK_MENU_RESPONSE
HANDOFF_AFTER = 2  # uncertain turns in a row


def message_text(tracker: Tracker) -> str:
    """The user's words; a payload (``/nlu_fallback``) has none to search."""
    text = str(tracker.latest_message.get("text") or "")
    return "" if text.startswith("/") else text


def carry_out(
    decision: Decision, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> list[EventType]:
    if decision.kind == ANSWER:
        return answer_topic(dispatcher, domain, decision.topics[0])
    if decision.kind == CLARIFY:
        return offer_topics(dispatcher, domain, decision.topics)
    return show_menu(dispatcher, domain, response=FALLBACK_MENU_RESPONSE)


class ActionUncertainAnswer(Action):
    """The second stage for messages Rasa is not sure about."""

    def name(self) -> str:
        return "action_uncertain_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ranked = await semantic_search.rank(message_text(tracker))
        decision = decide(FALLBACK_INTENT, RasaAnswers.from_parse(tracker.latest_message), ranked)
        if decision.kind == ANSWER:
            return carry_out(decision, dispatcher, domain)
        streak = previous_streak(tracker.events) + 1
        if decision.kind != CLARIFY and streak >= HANDOFF_AFTER:
            events = offer_handoff(dispatcher, domain)
        else:
            events = carry_out(decision, dispatcher, domain)
        return [*events, SlotSet(FALLBACK_STREAK, float(streak))]


class ActionAnswerFaq(Action):
    """Rasa's selected FAQ answer, checked against the semantic search."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rasa = RasaAnswers.from_parse(tracker.latest_message)
        check = current_settings().answer_check and rasa.best is not None
        ranked = await semantic_search.rank(message_text(tracker)) if check else None
        return carry_out(decide(RETRIEVAL_INTENT, rasa, ranked, check), dispatcher, domain)
