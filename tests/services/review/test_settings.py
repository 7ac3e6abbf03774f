"""Settings come from REVIEW_* variables; the Rasa token from RASA_API_TOKEN; defaults point into the repo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.review.settings import REPO_ROOT, ReviewSettings


def test_defaults_point_into_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REVIEW_DATABASE_URL",
        "REVIEW_TRACKER_STORE_URL",
        "RASA_API_TOKEN",
        "REVIEW_SECURE_COOKIES",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = ReviewSettings()
    assert settings.database_url == f"sqlite:///{REPO_ROOT / '.run' / 'review.db'}"
    assert settings.tracker_store_url == f"sqlite:///{REPO_ROOT / '.run' / 'tracker.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.rasa_api_token.get_secret_value() == ""
    assert settings.models_dir == REPO_ROOT / "models"
    assert settings.data_dir == REPO_ROOT / "data"
    assert settings.domain_dir == REPO_ROOT / "rasa_project" / "domain"
    assert settings.embedding_model_dir == REPO_ROOT / "models" / "embedding" / "multilingual-e5-small"
    assert settings.registry_file == REPO_ROOT / "models" / "registry.json"
    assert settings.secure_cookies is False
    assert (settings.login_max_failures, settings.login_window_seconds) == (5, 900)


def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVIEW_DATABASE_URL", "postgresql://review@db/review")
    monkeypatch.setenv("REVIEW_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("REVIEW_SECURE_COOKIES", "true")
    monkeypatch.setenv("RASA_API_TOKEN", "token-from-env")
    settings = ReviewSettings()
    assert settings.database_url == "postgresql://review@db/review"
    assert settings.models_dir == tmp_path
    assert settings.secure_cookies is True
    assert settings.rasa_api_token.get_secret_value() == "token-from-env"
    assert "token-from-env" not in repr(settings)


def test_timezone_is_checked() -> None:
    with pytest.raises(ValidationError):
        ReviewSettings(timezone="Mars/Olympus")
    makassar = ReviewSettings(timezone="Asia/Makassar")
    assert makassar.utc_offset(datetime(2026, 1, 1, tzinfo=UTC)) == timedelta(hours=8)
