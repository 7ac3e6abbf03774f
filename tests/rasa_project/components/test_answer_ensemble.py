"""The blended decision lands where Rasa's rules and ``utter_faq`` read it."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_project.components.answer_ensemble import (
    LINEAR_ITERATIONS,
    AnswerEnsembleClassifier,
    LinearLabelModel,
    blend,
    neural_probabilities,
    rewrite_prediction,
)
from rasa_project.components.indonesian_tokenizer import IndonesianSpacyTokenizer


def neural_parse() -> dict[str, Any]:
    return {
        "text": "vaksin bayar ga",
        "intent": {"name": "faq", "confidence": 0.9},
        "intent_ranking": [{"name": "faq", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": "faq/halal", "confidence": 0.6},
                    {"intent_response_key": "faq/biaya", "confidence": 0.4},
                ],
                "response": {"intent_response_key": "faq/halal", "utter_action": "utter_faq/halal"},
            }
        },
    }


def test_neural_probabilities_spread_faq_over_the_answers() -> None:
    assert neural_probabilities(neural_parse(), "faq") == pytest.approx(
        {"greet": 0.1, "faq/halal": 0.54, "faq/biaya": 0.36}
    )
    assert neural_probabilities({"intent_ranking": None}, "faq") == {}  # no neural classifier before


def test_blend_weighs_the_linear_model() -> None:
    blended = blend({"faq/biaya": 1.0}, {"faq/halal": 1.0}, linear_weight=0.8)
    assert blended == pytest.approx({"faq/biaya": 0.8, "faq/halal": 0.2})


def test_rewrite_points_utter_faq_at_the_blended_answer() -> None:
    data = neural_parse()
    rewrite_prediction(data, {"faq/biaya": 0.6, "faq/halal": 0.2, "greet": 0.2}, "faq")
    assert data["intent"]["name"] == "faq"
    assert data["intent"]["confidence"] == pytest.approx(0.8)
    assert data["intent"]["full_retrieval_intent_name"] == "faq/biaya"
    response = data["response_selector"]["faq"]["response"]
    assert response["utter_action"] == "utter_faq/biaya"
    assert response["confidence"] == pytest.approx(0.75)
    assert [entry["intent_response_key"] for entry in data["response_selector"]["faq"]["ranking"]] == [
        "faq/biaya",
        "faq/halal",
    ]


def test_a_core_intent_can_win_over_faq() -> None:
    data = neural_parse()
    rewrite_prediction(data, {"faq/biaya": 0.2, "faq/halal": 0.1, "greet": 0.7}, "faq")
    assert data["intent"] == {"name": "greet", "confidence": pytest.approx(0.7)}
    assert [entry["name"] for entry in data["intent_ranking"]] == ["greet", "faq"]


TOY_EXAMPLES = [
    ("vaksin bayar ga", "faq", "faq/biaya"),
    ("berapa biaya vaksin", "faq", "faq/biaya"),
    ("vaksin gratis kah", "faq", "faq/biaya"),
    ("vaksin halal ga", "faq", "faq/halal"),
    ("apakah vaksin mengandung babi", "faq", "faq/halal"),
    ("fatwa mui vaksin", "faq", "faq/halal"),
    ("halo min", "greet", None),
    ("selamat pagi", "greet", None),
    ("hai", "greet", None),
]


def toy_training(tokenizer: IndonesianSpacyTokenizer, labels: int = 3) -> TrainingData:
    examples = []
    for text, intent, key in TOY_EXAMPLES[: 3 * labels]:
        data = {"text": text, "intent": intent}
        if key:
            data["intent_response_key"] = key
        examples.append(Message(data))
    return tokenizer.process_training_data(TrainingData(examples))


@pytest.mark.parametrize("labels", [3, 2])
def test_probabilities_are_scikit_learns_to_the_last_bit_and_the_kept_weights_are_not_saved(
    labels: int,
) -> None:
    tokenizer = IndonesianSpacyTokenizer(IndonesianSpacyTokenizer.get_default_config())
    model = LinearLabelModel(embedding_weight=3.0, regularisation=10.0)
    model.fit(toy_training(tokenizer, labels).intent_examples)
    messages = tokenizer.process(
        [Message({"text": text}) for text in ("vaksinnya bayar?", "halal kah", "pagi")]
    )
    expected = model.classifier.predict_proba(model._features(messages))
    labels_in_order = [str(label) for label in model.classifier.classes_]
    assert [[row[label] for label in labels_in_order] for row in model.probabilities(messages)] == (
        expected.tolist()
    )
    restored = pickle.loads(pickle.dumps(model))
    assert "_weights_by_feature" not in restored.__dict__
    assert restored.probabilities(messages) == model.probabilities(messages)


def test_trains_persists_and_loads(tmp_path: Any) -> None:
    tokenizer = IndonesianSpacyTokenizer(IndonesianSpacyTokenizer.get_default_config())
    training = toy_training(tokenizer)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("ensemble")
    config = AnswerEnsembleClassifier.get_default_config() | {"linear_weight": 1.0}
    AnswerEnsembleClassifier(config, storage, resource).train(training)

    loaded = AnswerEnsembleClassifier.load(config, storage, resource, None)
    [message] = tokenizer.process([Message({"text": "vaksinnya bayar?"})])
    message.data.update({"intent": {"name": "greet", "confidence": 0.9}, "intent_ranking": []})
    loaded.process([message])
    assert message.data["intent"]["name"] == "faq"
    assert message.data["response_selector"]["faq"]["response"]["utter_action"] == "utter_faq/biaya"

    # First classifier of its pipeline: what Rasa returns from a parse (the output properties)
    # carries the decision, not the empty intent Rasa starts a parse with.
    [alone] = loaded.process(tokenizer.process([Message({"text": "halal ga vaksinnya"})]))
    returned = alone.as_dict(only_output_properties=True)
    assert returned["intent"]["name"] == "faq"
    assert returned["intent"]["full_retrieval_intent_name"] == "faq/halal"
    assert returned["response_selector"]["faq"]["response"]["utter_action"] == "utter_faq/halal"
    assert [entry["name"] for entry in returned["intent_ranking"]] == ["faq", "greet"]


def test_the_linear_model_stops_at_the_configured_iterations(tmp_path: Any) -> None:
    """The trainer loop's fast pipeline (tests/integration/fast_config.yml) fits in fewer iterations."""
    tokenizer = IndonesianSpacyTokenizer(IndonesianSpacyTokenizer.get_default_config())
    storage = LocalModelStorage(tmp_path)
    resource = Resource("ensemble")
    config = AnswerEnsembleClassifier.get_default_config() | {"linear_iterations": 2}
    AnswerEnsembleClassifier(config, storage, resource).train(toy_training(tokenizer))
    loaded = AnswerEnsembleClassifier.load(config, storage, resource, None)
    assert loaded._model is not None
    assert loaded._model.classifier.max_iter == 2 and loaded._model.classifier.n_iter_.max() <= 2
    assert AnswerEnsembleClassifier.get_default_config()["linear_iterations"] == LINEAR_ITERATIONS
