"""What the assistant does with a FAQ question: answer, ask "did you mean", or show the menu.

- ``action_uncertain_answer`` (``nlu_fallback``: Rasa is not sure) asks the semantic FAQ search
  (``actions.second_stage.decide_uncertain``): one clear topic is answered, close topics are offered
  as "did you mean", anything else gets the fallback menu.
- ``action_answer_faq`` (``faq``: Rasa is sure) gives Rasa's selected answer unless the semantic
  search clearly prefers another topic (``verify_answer``); then it asks "did you mean".
- ``action_out_of_scope`` (not about vaccination) says so, with the menu.
- ``action_declined`` ("bukan", "nggak") after a "did you mean": none of the topics was it.

Everything but an answer is an uncertain turn (``actions.menu.uncertain_turn``): the second in a row
offers an officer instead of the same menu. Neither ever guesses a health answer: without the
semantic search they answer only what Rasa is sure about and show the menu otherwise.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import semantic_search
from actions.choices import said_lately
from actions.menu import (
    DID_YOU_MEAN_OFFICER_RESPONSE,
    DID_YOU_MEAN_RESPONSE,
    OUT_OF_SCOPE_RESPONSE,
    answer_topic,
    uncertain_turn,
)
from actions.second_stage import ANSWER, CLARIFY, Decision, RasaAnswers, decide, trusted
from actions.settings import current_settings
from core.parse import FALLBACK_INTENT, RETRIEVAL_INTENT

DENY_RESPONSE = "utter_deny"
_DID_YOU_MEAN = (DID_YOU_MEAN_RESPONSE, DID_YOU_MEAN_OFFICER_RESPONSE)


def message_text(tracker: Tracker) -> str:
    """The user's words; a payload (``/nlu_fallback``) has none to search."""
    text = str(tracker.latest_message.get("text") or "")
    return "" if text.startswith("/") else text


def carry_out(
    decision: Decision, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[EventType]:
    """An answer, or an uncertain turn: the close topics (if any), the menu or the officer."""
    if decision.kind == ANSWER:
        return answer_topic(dispatcher, tracker, domain, decision.topics[0])
    topics = decision.topics if decision.kind == CLARIFY else ()
    return uncertain_turn(dispatcher, tracker, domain, topics)


class ActionUncertainAnswer(Action):
    """The second stage for messages Rasa is not sure about."""

    def name(self) -> str:
        return "action_uncertain_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ranked = await semantic_search.rank(message_text(tracker))
        decision = decide(FALLBACK_INTENT, RasaAnswers.from_parse(tracker.latest_message), ranked)
        return carry_out(decision, dispatcher, tracker, domain)


class ActionAnswerFaq(Action):
    """Rasa's selected FAQ answer, checked against the semantic search."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rasa = RasaAnswers.from_parse(tracker.latest_message)
        # An answer Rasa is trusted with stands without the check: the message is not embedded.
        check = current_settings().answer_check and rasa.best is not None and not trusted(rasa)
        ranked = await semantic_search.rank(message_text(tracker)) if check else None
        return carry_out(decide(RETRIEVAL_INTENT, rasa, ranked, check), dispatcher, tracker, domain)


class ActionOutOfScope(Action):
    """Not about vaccination: said so with the menu, an uncertain turn like any other (a second one in
    a row, "hmm" or "???" after the fallback menu, offers an officer)."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return uncertain_turn(dispatcher, tracker, domain, menu=OUT_OF_SCOPE_RESPONSE)


class ActionDeclined(Action):
    """ "bukan" / "nggak" right after the fallback way or an answer (data/rules/menu.yml).

    After a "did you mean" it means none of the topics was it: one more uncertain turn, so the
    officer is offered. Otherwise it is the ordinary "no" (``utter_deny``).
    """

    def name(self) -> str:
        return "action_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if any(message.response in _DID_YOU_MEAN for message in said_lately(tracker.events)):
            return uncertain_turn(dispatcher, tracker, domain)
        dispatcher.utter_message(response=DENY_RESPONSE)
        return []
