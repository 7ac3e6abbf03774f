"""The model is a setting (folder or name), loaded once, and identified in the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actions.semantic import encoder as enc


def test_folder_resolves_to_an_absolute_path_and_a_name_stays_a_name(converted_model: Path) -> None:
    assert enc.resolve_model(str(converted_model)) == str(converted_model.resolve())
    assert enc.resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_fingerprint_follows_the_provisioned_source(converted_model: Path, tmp_path: Path) -> None:
    assert enc.model_fingerprint(str(converted_model)).startswith("sha256:")
    assert enc.model_fingerprint("intfloat/multilingual-e5-small") == "name:intfloat/multilingual-e5-small"
    (tmp_path / "config.json").write_text("{}")
    assert enc.model_fingerprint(str(tmp_path)).startswith("files:")


def test_model_is_loaded_once_per_setting(converted_model: Path, encoder: enc.Encoder) -> None:
    assert enc.load_encoder(str(converted_model)) is encoder


def test_missing_default_model_names_the_provisioning_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(enc, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv(enc.MODEL_ENV, raising=False)
    with pytest.raises(enc.ModelNotProvisionedError, match=r"actions\.semantic\.provision"):
        enc.load_encoder()


def test_encodings_are_unit_vectors_in_input_order(encoder: enc.Encoder) -> None:
    texts = ["vaksin halal", "  jadwal   booster\tkedua  ", "vaksin halal"]
    vectors = encoder.encode(texts, enc.QUERY_PROMPT)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    single = encoder.encode_one("jadwal booster kedua", enc.QUERY_PROMPT)
    np.testing.assert_allclose(single, vectors[1], atol=1e-5)
