"""The shared e5 graph runner: a text's vector does not depend on its batch, and a missing graph
says how to provision it. Runs on the folder `make embedding-model` provisions (the Makefile's unit
stage does it first); the vectors against sentence-transformers' are in
tests/actions/semantic/test_onnx_engine.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from embedding import onnx_encoder
from embedding.onnx_encoder import DEFAULT_FOLDER, ONNX_FILE, GraphMissingError, OnnxSentenceEncoder

ROOT = Path(__file__).resolve().parents[2]
PROVISIONED = ROOT / DEFAULT_FOLDER
# One word to far past e5's 512 tokens, emoji, full-width forms: batches mix lengths.
TEXTS = [
    "query: vaksin",
    "query: anak sy 12 thn blh vaksin covid ga ya",
    "query: vaksin sinovac halal ga sih kak 🙏🙏",
    "passage: Vaksin COVID-19 gratis di puskesmas untuk semua warga.",
    "query: Ｆｕｌｌｗｉｄｔｈ ＡＢＣ dan café naïve ﬁ ①",
    "query: " + "tolong jelaskan efek samping vaksin " * 200,
    "query: x",
]


@pytest.fixture(scope="module")
def encoder() -> OnnxSentenceEncoder:
    if not onnx_encoder.available(PROVISIONED):
        pytest.fail(f"no graph in {PROVISIONED}: run `make embedding-model` first", pytrace=False)
    return onnx_encoder.load(PROVISIONED)


def test_a_batch_gives_each_text_the_vector_it_gets_alone_in_input_order(
    encoder: OnnxSentenceEncoder,
) -> None:
    alone = np.stack([encoder.encode_one(text) for text in TEXTS])
    for batch_size in (1, 3, 64):
        together = encoder.encode(TEXTS, batch_size)
        assert together.dtype == np.float32 and together.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(alone, axis=1), 1.0, atol=1e-5)
    assert len({vector.tobytes() for vector in alone}) == len(TEXTS)


def test_the_prompt_changes_the_vector(encoder: OnnxSentenceEncoder) -> None:
    query, passage = encoder.encode(["query: vaksin gratis", "passage: vaksin gratis"])
    assert 0.8 < float(query @ passage) < 0.999


def test_no_texts_no_rows(encoder: OnnxSentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def test_a_folder_without_the_graph_says_how_to_provision_it(tmp_path: Path) -> None:
    assert not onnx_encoder.available(tmp_path)
    with pytest.raises(GraphMissingError, match=r"make train"):
        onnx_encoder.load(tmp_path)


def test_the_graph_identity_is_its_content(tmp_path: Path) -> None:
    assert onnx_encoder.graph_identity(tmp_path) == "none"
    (tmp_path / ONNX_FILE).write_bytes(b"graph")
    assert onnx_encoder.graph_identity(tmp_path) == hashlib.sha256(b"graph").hexdigest()
