"""One message on ONNX Runtime gives the vector sentence-transformers gives, so the thresholds hold."""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from actions.semantic import encoder as enc
from actions.semantic.encoder import Encoder
from embedding.onnx_encoder import ONNX_FILE, OnnxSentenceEncoder, available

# How recipients write (slang, typos, emoji, English mixed in, width and ligature forms), and text far
# past e5's 512 tokens, which both engines must cut the same way.
TEXTS = [
    "anak sy 12 thn blh vaksin covid ga ya",
    "vaksinnya bayar ga sih min",
    "Ibu saya umur 70 th punya darah tinggi 160/100, boleh divaksin?",
    "is the booster still needed in 2026? soalnya udah 3x vaksin",
    "vaksin sinovac halal ga sih kak 🙏🙏",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ dan café naïve ﬁ ①",
    "  dua  spasi   di\ttengah  ",
    "x",
    "tolong jelaskan efek samping vaksin " * 200,
]


@pytest.fixture(scope="module")
def onnx_encoder(converted_model: Path) -> OnnxSentenceEncoder:
    return OnnxSentenceEncoder(converted_model)


def test_provisioning_exports_the_graph(converted_model: Path) -> None:
    assert (converted_model / ONNX_FILE).stat().st_size > 100_000_000  # the weights are in it
    assert available(converted_model)


@pytest.mark.parametrize("prompt", ["", enc.QUERY_PROMPT])
def test_the_same_vectors_as_sentence_transformers(
    encoder: Encoder, onnx_encoder: OnnxSentenceEncoder, prompt: str
) -> None:
    theirs = encoder.encode(TEXTS, prompt)
    ours = np.stack([onnx_encoder.encode_one(prompt + " ".join(text.split())) for text in TEXTS])
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=2e-5)
    assert np.sum(ours * theirs, axis=1).min() > 0.99999


def test_the_loaded_encoder_embeds_a_message_without_torch_s_model(converted_model: Path) -> None:
    encoder = Encoder(None, str(converted_model), "fingerprint", onnx=OnnxSentenceEncoder(converted_model))
    vector = encoder.encode_one("  vaksin   booster kedua  ", "")
    assert encoder.engine == "onnxruntime" and encoder.dimension == 384
    assert encoder.model is None, "sentence-transformers was loaded for one message"
    np.testing.assert_allclose(vector, encoder.encode(["vaksin booster kedua"], "")[0], atol=2e-5)
    assert encoder.model is not None  # batch work loads it when asked


def test_the_process_encoder_uses_onnx_when_the_folder_has_it(encoder: Encoder) -> None:
    assert encoder.engine == "onnxruntime"


def test_without_the_graph_or_the_runtime_sentence_transformers_embeds(
    converted_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(converted_model, copy, ignore=shutil.ignore_patterns(ONNX_FILE))
    assert not available(copy)
    assert enc.load_encoder(str(copy)).engine == "sentence-transformers"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # installed nowhere: import fails
    assert not available(converted_model)


def test_threads_share_one_session(onnx_encoder: OnnxSentenceEncoder) -> None:
    alone = [onnx_encoder.encode_one(text) for text in TEXTS[:6]]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(onnx_encoder.encode_one, TEXTS[:6] * 4))
    for index, vector in enumerate(together):
        np.testing.assert_allclose(vector, alone[index % 6], atol=1e-6)


def test_a_damaged_graph_leaves_the_embedding_to_sentence_transformers(
    converted_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "damaged"
    shutil.copytree(converted_model, copy, ignore=shutil.ignore_patterns(ONNX_FILE))
    (copy / ONNX_FILE).write_bytes(b"not an onnx graph")
    loaded = enc.load_encoder(str(copy))
    assert loaded.engine == "sentence-transformers"
    assert "does not load" in caplog.text
    np.testing.assert_allclose(loaded.encode_one("vaksin halal", ""), loaded.encode(["vaksin halal"], "")[0])
