"""The on-disk embedding store: a second build embeds only new texts and gets the same vectors; a
store that is damaged, unwritable or off never fails the work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from actions.semantic import embedding_store
from actions.semantic.embedding_store import EmbeddingStore, store_path
from actions.semantic.encoder import Encoder

TEXTS = ["berapa biaya vaksin covid", "apakah vaksin covid halal", "di mana tempat vaksin terdekat"]


class Counting:
    """Wraps the real encoder; remembers which texts it was asked to embed."""

    def __init__(self, encoder: Encoder, prompt: str = "") -> None:
        self.encoder, self.prompt = encoder, prompt
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return self.encoder.encode(texts, self.prompt)


def test_a_second_batch_embeds_only_the_new_texts_and_gets_the_same_vectors(
    encoder: Encoder, tmp_path: Path
) -> None:
    store = EmbeddingStore(tmp_path / "store.sqlite3")
    first = Counting(encoder)
    vectors, embedded = store.encode(TEXTS, encoder.fingerprint, "", first)
    assert embedded == 3 and first.asked == TEXTS
    np.testing.assert_allclose(vectors, encoder.encode(TEXTS, ""), atol=1e-5)

    second = Counting(encoder)
    more = [*TEXTS, "vaksin untuk lansia boleh?"]
    again, embedded = store.encode(more, encoder.fingerprint, "", second)
    assert embedded == 1 and second.asked == ["vaksin untuk lansia boleh?"]
    np.testing.assert_array_equal(again[:3], vectors)  # stored bytes, exactly
    np.testing.assert_allclose(again[3], encoder.encode(["vaksin untuk lansia boleh?"], "")[0], atol=1e-5)


def test_another_model_or_prompt_never_gets_these_vectors(encoder: Encoder, tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path / "store.sqlite3")
    store.encode(TEXTS, encoder.fingerprint, "", Counting(encoder))
    other_model = Counting(encoder)
    store.encode(TEXTS, "sha256:another-model", "", other_model)
    other_prompt = Counting(encoder, "query: ")
    store.encode(TEXTS, encoder.fingerprint, "query: ", other_prompt)
    assert other_model.asked == TEXTS and other_prompt.asked == TEXTS


def test_a_damaged_or_unwritable_store_embeds_everything_and_says_why(
    encoder: Encoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"this is not a database" * 100)
    counting = Counting(encoder)
    vectors, embedded = EmbeddingStore(damaged).encode(TEXTS, encoder.fingerprint, "", counting)
    assert embedded == 3 and counting.asked == TEXTS and vectors.shape == (3, encoder.dimension)
    assert "not used" in caplog.text

    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the store's folder should be")
    vectors, embedded = EmbeddingStore(blocked / "store.sqlite3").encode(
        TEXTS, encoder.fingerprint, "", Counting(encoder)
    )
    assert embedded == 3 and vectors.shape == (3, encoder.dimension)


def test_a_row_of_another_size_is_not_mixed_in(encoder: Encoder, tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = EmbeddingStore(path)
    store.encode(TEXTS, encoder.fingerprint, "", Counting(encoder))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE embeddings SET vector = ? WHERE rowid = 1", (b"\0" * 8,))
    counting = Counting(encoder)
    vectors, embedded = store.encode(TEXTS, encoder.fingerprint, "", counting)
    assert embedded == 3 and vectors.shape == (3, encoder.dimension)


def test_it_keeps_the_most_recently_used_rows(
    encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedding_store, "MAX_ROWS", 2)
    path = tmp_path / "store.sqlite3"
    EmbeddingStore(path).encode(TEXTS, encoder.fingerprint, "", Counting(encoder))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM embeddings").fetchone() == (2,)


def test_where_the_store_is() -> None:
    assert store_path("off", {}) is None and store_path(" OFF ", {}) is None
    assert store_path("/data/e.sqlite3", {"XDG_CACHE_HOME": "/x"}) == Path("/data/e.sqlite3")
    assert store_path("", {"XDG_CACHE_HOME": "/x"}) == Path("/x/tanyavaksin/embeddings.sqlite3")
    assert store_path("", {}) == Path.home() / ".cache" / "tanyavaksin" / "embeddings.sqlite3"


def test_index_builds_go_through_the_store(
    encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "through.sqlite3"
    monkeypatch.setenv("TANYAVAKSIN_EMBEDDING_CACHE", str(path))
    first = encoder.encode_batch(TEXTS, "")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM embeddings").fetchone() == (3,)
    np.testing.assert_array_equal(encoder.encode_batch(["  berapa biaya   vaksin covid "], ""), first[:1])
    monkeypatch.setenv("TANYAVAKSIN_EMBEDDING_CACHE", "off")
    np.testing.assert_allclose(encoder.encode_batch(TEXTS, ""), first, atol=1e-5)
