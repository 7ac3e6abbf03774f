"""Typed menu shortcuts: an option number ("2", "no. 2", "pilih 2"), "menu", "kembali", and the words
that stop or restart the notices ("Berhenti", "STOP", "MULAI").

These must work at any point of a conversation, the same way every time, also where a learned
classifier has little to go on (a lone digit) or where a wrong guess is costly (``menu`` ends a
wait for an officer). This component comes last in the pipeline and overrides the prediction:

- an option number → intent ``choose_option`` with entity ``option_number`` (the action server
  maps it to the options it offered last);
- ``menu``, ``menu utama``, ``kembali``, ``balik``, ``back`` → intent ``show_menu``;
- an opt-out word (``berhenti``, ``stop``, ``jangan kirim lagi`` ...) → intent ``opt_out``, an opt-in
  word (``mulai``, ``start``, ``langganan lagi``) → intent ``opt_in``: Meta's policy wants them
  honoured at once, so no classifier may talk them into a FAQ (core/menu_words.py has the words).

The original ranking is kept behind the override, as the fallback gates do.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from core.menu_words import is_menu_word, is_opt_in, is_opt_out, option_number

CHOOSE_OPTION = "choose_option"
SHOW_MENU = "show_menu"
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
OPTION_ENTITY = "option_number"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MenuShortcuts(GraphComponent, IntentClassifier):
    """Deterministic intents for option numbers, menu words and opt-out / opt-in words."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MenuShortcuts:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = str(message.get(TEXT) or "")
            number = option_number(text)
            if number is not None:
                self._override(message, CHOOSE_OPTION)
                entity = {
                    "entity": OPTION_ENTITY,
                    "value": str(number),
                    "start": 0,
                    "end": len(text),
                    "extractor": self.__class__.__name__,
                }
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
            elif is_menu_word(text):
                self._override(message, SHOW_MENU)
            elif is_opt_out(text):
                self._override(message, OPT_OUT)
            elif is_opt_in(text):
                self._override(message, OPT_IN)
        return messages

    @staticmethod
    def _override(message: Message, intent: str) -> None:
        chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [
            entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != intent
        ]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(chosen), *ranking], add_to_output=True)
