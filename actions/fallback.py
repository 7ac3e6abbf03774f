"""What the assistant does when it is not sure of the answer.

The NLU gate turns weak intents and weak FAQ answers into ``nlu_fallback``;
this action is where that path lands. It never guesses a health answer.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

UNCERTAIN_ANSWER_RESPONSE = "utter_uncertain_answer"


class ActionUncertainAnswer(Action):
    """Honest "I am not sure" that points to the menu and the hotline."""

    def name(self) -> str:
        return "action_uncertain_answer"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=UNCERTAIN_ANSWER_RESPONSE)
        return []
