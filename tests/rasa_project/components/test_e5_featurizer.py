"""Sentence meaning reaches the classifiers as one dense feature per text."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import numpy as np
import pytest
from rasa.shared.nlu.constants import RESPONSE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from embedding.onnx_encoder import DEFAULT_FOLDER, ONNX_FILE, GraphMissingError
from rasa_project.components.e5_featurizer import PROJECT_ROOT, MultilingualE5Featurizer


@pytest.fixture(scope="module")
def featurizer() -> MultilingualE5Featurizer:
    return MultilingualE5Featurizer(MultilingualE5Featurizer.get_default_config(), "e5")


def sentence_vector(message: Message, attribute: str = TEXT) -> np.ndarray:
    _, sentence = message.get_dense_features(attribute)
    assert sentence is not None
    return np.asarray(sentence.features)[0]


def test_each_message_gets_a_normalised_384_dimensional_sentence_feature(
    featurizer: MultilingualE5Featurizer,
) -> None:
    [message] = featurizer.process([Message({TEXT: "vaksin bayar ga?"})])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None
    assert sentence is not None and sentence.features.shape == (1, 384)
    assert np.linalg.norm(sentence.features) == pytest.approx(1.0, abs=1e-3)


def test_a_paraphrase_is_closer_than_another_topic(featurizer: MultilingualE5Featurizer) -> None:
    asked, paraphrase, other = featurizer.process(
        [
            Message({TEXT: "vaksinnya gratis kan?"}),
            Message({TEXT: "apakah vaksinasi dikenakan biaya"}),
            Message({TEXT: "ibu hamil boleh divaksin?"}),
        ]
    )
    query = sentence_vector(asked)
    assert query @ sentence_vector(paraphrase) > query @ sentence_vector(other)


def test_training_data_answers_are_featurised_as_passages(featurizer: MultilingualE5Featurizer) -> None:
    example = Message({TEXT: "vaksin halal?", RESPONSE: "Vaksin COVID-19 sudah mendapat fatwa MUI."})
    featurizer.process_training_data(TrainingData([example]))
    assert sentence_vector(example, RESPONSE).shape == (384,)
    assert not np.allclose(sentence_vector(example, RESPONSE), sentence_vector(example, TEXT))


def test_a_repeated_message_is_embedded_once_with_the_same_feature() -> None:
    """ "menu", "halo", a common question: the second time costs a lookup (#14)."""
    featurizer = MultilingualE5Featurizer(
        {**MultilingualE5Featurizer.get_default_config(), "cache_size": 2}, "e5"
    )
    embedded: list[str] = []
    embed = featurizer.embed

    def counting(texts: list[str], attribute: str) -> np.ndarray:
        embedded.extend(texts)
        return embed(texts, attribute)

    featurizer.embed = counting  # type: ignore[method-assign]
    first, second, other, again = featurizer.process(
        [Message({TEXT: "menu"}), Message({TEXT: "menu"}), Message({TEXT: "halo"}), Message({TEXT: "menu"})]
    )
    assert embedded == ["menu", "halo"]
    assert np.array_equal(sentence_vector(first), sentence_vector(second))
    assert np.array_equal(sentence_vector(first), sentence_vector(again))
    assert not np.array_equal(sentence_vector(first), sentence_vector(other))
    for text in ("ya", "vaksin", "menu"):  # one message per parse, as the server sends them
        featurizer.process([Message({TEXT: text})])
    assert embedded[-1] == "menu", "the cache keeps only cache_size texts"


def test_the_featurizer_embeds_with_the_provisioned_graph_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no models/ here: the project's folder is used
    featurizer = MultilingualE5Featurizer(MultilingualE5Featurizer.get_default_config(), "e5")
    assert featurizer.folder() == PROJECT_ROOT / DEFAULT_FOLDER
    [message] = featurizer.process([Message({TEXT: "vaksin bayar ga?"})])
    assert sentence_vector(message).dtype == np.float32


def test_without_the_graph_the_model_does_not_load_and_says_how_to_provision(tmp_path: Path) -> None:
    """No other engine: vectors unlike the training's would answer recipients."""
    config = {**MultilingualE5Featurizer.get_default_config(), "model_folder": str(tmp_path)}
    context = MagicMock(node_name="e5")  # Rasa's execution context: only its node name is read
    with pytest.raises(GraphMissingError, match=r"make train"):
        MultilingualE5Featurizer.create(config, MagicMock(), MagicMock(), context)


def test_a_new_graph_in_the_same_folder_changes_rasa_s_cache_key(tmp_path: Path) -> None:
    """Rasa reuses a component's cached output while its fingerprint stays: the graph must count."""
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    config = {**MultilingualE5Featurizer.get_default_config(), "model_folder": str(tmp_path)}

    def key() -> str:
        return calculate_fingerprint_key(MultilingualE5Featurizer, config, {})

    (tmp_path / ONNX_FILE).write_bytes(b"graph one")
    first = key()
    assert key() == first
    (tmp_path / "new.onnx").write_bytes(b"graph two")
    (tmp_path / "new.onnx").replace(tmp_path / ONNX_FILE)
    assert key() != first
