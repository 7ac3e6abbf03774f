"""Clustering groups messages that ask the same thing, on the project's real embedding model."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from actions.semantic.faq_index import FaqIndex, IndexMismatchError, index_dir
from core.nlu_yaml import yaml_files
from services.review.clustering import (
    DEFAULT_SIMILARITY,
    MAX_EXAMPLES,
    Cluster,
    Embedder,
    cluster_messages,
    load_embedder,
)
from services.review.training_data import normalize, read_examples

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "embedding" / "multilingual-e5-small"
INDEX = index_dir()
# The project's model and index come from `make train`: these run in `make integration`, after it.
needs_model = pytest.mark.trained_model


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(MODEL)


def heldout() -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {}
    for path in yaml_files(ROOT / "data" / "heldout"):
        for text, label in read_examples(path):
            by_label.setdefault(label, []).append(text)
    return by_label


@needs_model
@pytest.mark.parametrize(
    "topics",
    [("faq/biaya", "faq/puasa", "faq/lokasi"), ("faq/ibu_hamil", "faq/kontak", "faq/perjalanan")],
)
def test_held_out_messages_cluster_by_topic(embedder: Embedder, topics: tuple[str, ...]) -> None:
    """The first four held-out messages of each topic, mixed: one cluster per topic."""
    messages = heldout()
    label = {text: topic for topic in topics for text in messages[topic][:4]}
    texts = [text for pair in zip(*(messages[topic][:4] for topic in topics)) for text in pair]

    clusters = cluster_messages(texts, embedder)

    assert sorted(sorted({label[text] for text in cluster.texts}) for cluster in clusters) == sorted(
        [topic] for topic in topics
    )
    assert [cluster.size for cluster in clusters] == [4, 4, 4]


@needs_model
def test_purity_on_the_held_out_faq_split(embedder: Embedder) -> None:
    """The figures clustering.py was tuned to (purity 0.79, inverse purity 0.68, 83 clusters)."""
    labelled = [
        (text, label) for label, texts in heldout().items() if label.startswith("faq/") for text in texts
    ]
    label = dict(labelled)
    clusters = cluster_messages([text for text, _ in labelled], embedder)

    assert sum(cluster.size for cluster in clusters) == len(labelled)
    assert len(labelled) >= 390  # every held-out FAQ question, none lost
    purity = sum(Counter(label[t] for t in c.texts).most_common(1)[0][1] for c in clusters) / len(labelled)
    where = {text: index for index, cluster in enumerate(clusters) for text in cluster.texts}
    per_topic: dict[str, list[int]] = {}
    for text, topic in labelled:
        per_topic.setdefault(topic, []).append(where[text])
    inverse = sum(Counter(found).most_common(1)[0][1] for found in per_topic.values()) / len(labelled)
    assert purity >= 0.75
    assert inverse >= 0.62
    assert 50 <= len(clusters) <= 120


@needs_model
def test_nothing_and_one_message(embedder: Embedder) -> None:
    assert cluster_messages([], embedder) == []
    assert cluster_messages(["vaksin bayar ga?"], embedder) == [
        Cluster(size=1, examples=("vaksin bayar ga?",), texts=("vaksin bayar ga?",))
    ]


@needs_model
def test_real_embeddings_are_unit_rows(embedder: Embedder) -> None:
    rows = embedder.embed(["vaksin bayar ga?", "halo kak", "sertifikat belum muncul"])
    assert rows.shape[0] == 3
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    assert embedder.embed([]).shape[0] == 0


@needs_model
def test_real_clustering_is_deterministic(embedder: Embedder) -> None:
    texts = [text for texts in heldout().values() for text in texts[:2]]
    assert cluster_messages(texts, embedder) == cluster_messages(texts, embedder)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no sentence-transformers model in .*nowhere.*make train"):
        load_embedder(tmp_path / "nowhere")


@needs_model
def test_a_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no semantic index"):
        load_embedder(MODEL, index=tmp_path)


@needs_model
def test_an_index_of_another_model_is_refused(tmp_path: Path) -> None:
    index = FaqIndex.load(INDEX)
    info = index.info.__class__(**{**index.info.__dict__, "model_fingerprint": "sha256:another"})
    FaqIndex(index.embeddings, index.labels, index.texts, info).save(tmp_path)
    with pytest.raises(IndexMismatchError, match="another model"):
        load_embedder(MODEL, index=tmp_path)


# --- the clustering rules, on embeddings chosen by hand ------------------------------------------


class FixedEmbedder:
    """Each text's vector from a table (by its normalized first word), L2-normalised; records calls."""

    def __init__(self, vectors: dict[str, Sequence[float]]) -> None:
        self.vectors = {word: np.asarray(vector, dtype=np.float64) for word, vector in vectors.items()}
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.array([self.vectors[normalize(text).split()[0]] for text in texts]).reshape(len(texts), -1)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


FIXED = FixedEmbedder(
    {
        "biaya": [1, 0, 0],
        "bayar": [0.95, 0.1, 0],
        "gratis": [0.9, 0.2, 0],
        "halal": [0, 1, 0],
        "haram": [0.1, 0.95, 0],
        "lokasi": [0, 0, 1],
    }
)


def test_largest_first_singletons_last_repeats_counted() -> None:
    texts = ["halal?", "biaya vaksin", "lokasi", "haram ga", "bayar ga", "gratis kah", "Halal!", "halal"]
    clusters = cluster_messages(texts, FIXED, similarity=0.8)

    assert [cluster.size for cluster in clusters] == [4, 3, 1]
    assert clusters[0].texts == ("halal?", "haram ga", "Halal!", "halal")  # input order, repeats kept
    assert clusters[0].examples == ("halal?", "haram ga")  # repeats collapsed, the repeated one central
    assert clusters[1].texts == ("biaya vaksin", "bayar ga", "gratis kah")
    assert clusters[1].examples[0] == "bayar ga"  # nearest to the cluster's mean
    assert clusters[2] == Cluster(1, ("lokasi",), ("lokasi",))


def test_an_opened_cluster_lists_each_message_once_the_most_sent_first() -> None:
    [halal, *_] = cluster_messages(["halal?", "haram ga", "Halal!", "halal", "biaya"], FIXED, similarity=0.8)
    assert halal.distinct() == [("halal?", 3), ("haram ga", 1)]  # the first spelling of a repeat
    assert Cluster(2, ("b",), ("b", "a")).distinct() == [("a", 1), ("b", 1)]  # ties: by text


def test_repeats_are_embedded_once() -> None:
    embedder = FixedEmbedder({"halal": [0, 1], "biaya": [1, 0]})
    cluster_messages(["halal?", "HALAL", "biaya", "halal", "  "], embedder)
    assert embedder.calls == [["halal?", "biaya"]]


def test_a_high_similarity_splits_a_low_one_merges() -> None:
    texts = ["biaya", "bayar", "gratis", "halal", "haram"]
    assert len(cluster_messages(texts, FIXED, similarity=0.999)) == 5
    assert len(cluster_messages(texts, FIXED, similarity=-1.0)) == 1


def test_at_most_five_examples() -> None:
    embedder = FixedEmbedder({f"w{i}": [1, i / 100] for i in range(12)})
    [cluster] = cluster_messages([f"w{i} vaksin" for i in range(12)], embedder, similarity=0.5)
    assert cluster.size == 12
    assert len(cluster.examples) == MAX_EXAMPLES
    assert len(set(cluster.examples)) == MAX_EXAMPLES


def test_same_input_same_output_whatever_the_order_of_ties() -> None:
    embedder = FixedEmbedder({"a": [1, 0], "b": [1, 0], "c": [0, 1], "d": [0, 1]})
    first = cluster_messages(["a x", "b x", "c x", "d x"], embedder, similarity=0.9)
    assert first == cluster_messages(["a x", "b x", "c x", "d x"], embedder, similarity=0.9)
    assert [cluster.examples for cluster in first] == [("a x", "b x"), ("c x", "d x")]


def test_empty_and_punctuation_only_texts_are_left_out() -> None:
    embedder = FixedEmbedder({})
    assert cluster_messages(["", "  ", "??"], embedder) == []
    assert embedder.calls == []


def test_similarity_must_be_a_cosine() -> None:
    with pytest.raises(ValueError, match="cosine"):
        cluster_messages(["biaya"], FIXED, similarity=1.5)


def test_two_thousand_messages_cluster_in_seconds() -> None:
    """Clustering itself is quick; embedding 2,000 texts with the real model takes ~35-90 s."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 32))
    vectors = {f"m{i}": centres[i % 40] + 0.3 * rng.normal(size=32) for i in range(2000)}
    embedder = FixedEmbedder(vectors)

    started = time.perf_counter()
    clusters = cluster_messages([f"m{i} pesan" for i in range(2000)], embedder, similarity=DEFAULT_SIMILARITY)
    elapsed = time.perf_counter() - started

    assert sum(cluster.size for cluster in clusters) == 2000
    assert elapsed < 20
    assert [cluster.size for cluster in clusters] == sorted(
        (cluster.size for cluster in clusters), reverse=True
    )
