"""The FAQ index: reading Rasa data, ranking topics, saving and loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from actions.semantic.encoder import Encoder
from actions.semantic.faq_index import (
    Example,
    FaqIndex,
    IndexInfo,
    IndexMismatchError,
    SemanticFaqSearch,
    build_index,
    index_info,
    nlu_files,
    read_examples,
)


class VectorModel:
    """Stands in for a SentenceTransformer: fixed unit vectors per text."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {
            text: np.array(v, dtype=np.float32) / np.linalg.norm(v) for text, v in vectors.items()
        }

    def encode(self, texts: list[str], prompt: str = "", **_: Any) -> np.ndarray:
        return np.stack([self.vectors[text] for text in texts])

    def get_embedding_dimension(self) -> int:
        return len(next(iter(self.vectors.values())))


def fake_encoder(vectors: dict[str, list[float]], fingerprint: str = "fake") -> Encoder:
    return Encoder(cast(Any, VectorModel(vectors)), "fake-model", fingerprint)


def info(**overrides: Any) -> IndexInfo:
    base: dict[str, Any] = {
        "model": "fake-model",
        "model_fingerprint": "fake",
        "example_prompt": "",
        "message_prompt": "",
        "top_k": 1,
        "include_negatives": True,
        "center": False,
        "data_hash": "h",
    }
    return IndexInfo(**{**base, **overrides})


VECTORS = {
    "a1": [1.0, 0.0, 0.0],
    "a2": [0.9, 0.1, 0.0],
    "b1": [0.0, 1.0, 0.0],
    "b2": [0.0, 0.8, 0.6],
    "n1": [0.0, 0.0, 1.0],
    "close to a": [0.95, 0.05, 0.0],
}


def small_index(**overrides: Any) -> FaqIndex:
    rows = [Example("a1", "faq/a"), Example("b1", "faq/b"), Example("a2", "faq/a"), Example("b2", "faq/b")]
    rows.append(Example("n1", "out_of_scope"))
    return build_index(rows, fake_encoder(VECTORS), info(**overrides))


def test_reads_rasa_nlu_examples_and_strips_entity_annotations(tiny_nlu: Path) -> None:
    examples = read_examples(nlu_files(tiny_nlu))
    assert len(examples) == 15
    assert {ex.label for ex in examples} == {"faq/biaya", "faq/halal", "faq/lokasi", "out_of_scope", "greet"}
    assert any(ex.text == "fatwa MUI tentang vaksin" for ex in examples)


def test_rows_are_grouped_by_label_and_ranked_best_first() -> None:
    index = small_index()
    assert index.labels == ["faq/a", "faq/a", "faq/b", "faq/b", "out_of_scope"]
    ranked = index.rank(np.array([0.95, 0.05, 0.0], dtype=np.float32) / np.linalg.norm([0.95, 0.05, 0.0]))
    assert [m.label for m in ranked] == ["faq/a", "faq/b", "out_of_scope"]
    assert ranked[0].is_faq and ranked[0].topic == "a"
    assert ranked[2].topic is None and not ranked[2].is_faq


def test_top_k_mean_and_centring_change_scores_not_order() -> None:
    message = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    best = small_index(top_k=1).rank(message)[0]
    mean2 = small_index(top_k=2).rank(message)[0]
    assert best.label == mean2.label == "faq/a"
    assert best.score == pytest.approx(1.0) and mean2.score < best.score
    assert small_index(center=True).rank(message)[0].label == "faq/a"


def test_faq_only_index_drops_negatives() -> None:
    assert "out_of_scope" not in small_index(include_negatives=False).label_names


def test_save_load_round_trip(tmp_path: Path) -> None:
    index = small_index(center=True, top_k=2)
    index.save(tmp_path)
    loaded = FaqIndex.load(tmp_path)
    assert loaded.labels == index.labels and loaded.texts == index.texts and loaded.info == index.info
    np.testing.assert_array_equal(loaded.embeddings, index.embeddings)
    message = np.array([0.2, 0.9, 0.1], dtype=np.float32)
    assert loaded.rank(message) == index.rank(message)


def test_search_refuses_an_index_built_with_another_model() -> None:
    with pytest.raises(IndexMismatchError, match="rebuild"):
        SemanticFaqSearch(small_index(), fake_encoder(VECTORS, fingerprint="another"))


def test_search_encodes_only_the_message() -> None:
    search = SemanticFaqSearch(small_index(), fake_encoder(VECTORS))
    assert search.search("close to a")[0].label == "faq/a"
    assert search.search("   ") == []


# ------------------------------------------------------------------ with the real model


def test_finds_the_topic_of_a_paraphrase(encoder: Encoder, tiny_nlu: Path) -> None:
    files = nlu_files(tiny_nlu)
    index = build_index(
        read_examples(files), encoder, index_info(encoder.fingerprint, encoder.model_ref, files)
    )
    search = SemanticFaqSearch(index, encoder)
    assert search.search("kalau mau disuntik vaksin harus keluar uang nggak?")[0].label == "faq/biaya"
    assert search.search("vaksinnya sudah dapat sertifikat halal belum")[0].label == "faq/halal"
    assert search.search("puskesmas mana yang buka vaksinasi")[0].label == "faq/lokasi"
    assert search.search("mau beli kuota internet murah")[0].label == "out_of_scope"
