"""Falls back when the *answer* is uncertain, not only the intent.

FallbackClassifier looks at the intent alone: a message can be ``faq`` with
0.99 confidence while the ResponseSelector picks the right answer with 0.3.
Sending that answer would be a confident wrong health answer, so this gate
predicts ``nlu_fallback`` exactly the way FallbackClassifier does (fallback
intent first in the ranking, everything else kept) when the selected answer
is weak or nearly tied with the runner-up.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from core.parse import answer_ranking


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerConfidenceGate(GraphComponent, IntentClassifier):
    """Sends weak ResponseSelector answers down the fallback path."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            # answer confidence below this -> fallback
            "threshold": 0.5,
            # best minus runner-up answer confidence below this -> fallback
            "ambiguity_threshold": 0.1,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerConfidenceGate:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self.answer_is_uncertain(message.data):
                fallback = {
                    INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                    PREDICTED_CONFIDENCE_KEY: self.component_config["threshold"],
                }
                message.data[INTENT] = fallback
                message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, dict(fallback))
        return messages

    def answer_is_uncertain(self, message_data: dict[str, Any]) -> bool:
        retrieval_intent = self.component_config["retrieval_intent"]
        intent = message_data.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != retrieval_intent:
            return False
        confidences = [answer.confidence for answer in answer_ranking(message_data, retrieval_intent)]
        if not confidences:
            return True
        best = confidences[0]
        runner_up = confidences[1] if len(confidences) > 1 else 0.0
        return (
            best < self.component_config["threshold"]
            or best - runner_up < self.component_config["ambiguity_threshold"]
        )
