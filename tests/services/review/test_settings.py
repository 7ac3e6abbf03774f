"""Settings come from REVIEW_* variables; the Rasa token from RASA_API_TOKEN; defaults point into the repo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.review.proxy import ClientHeader
from services.review.settings import REPO_ROOT, ReviewSettings


def test_defaults_point_into_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REVIEW_DATABASE_URL",
        "REVIEW_TRACKER_STORE_URL",
        "RASA_API_TOKEN",
        "REVIEW_SECURE_COOKIES",
        "REVIEW_TRUSTED_PROXIES",
        "REVIEW_PROXY_CLIENT_HEADER",
        "REVIEW_LOGIN_MAX_FAILURES",
        "REVIEW_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "REVIEW_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "REVIEW_LOGIN_WINDOW_SECONDS",
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
    assert settings.secure_cookies == "auto"  # Secure but for plain http on loopback (test_auth.py)
    assert settings.trusted_proxies == ()  # no forwarding header is believed
    assert settings.proxy_client_header is ClientHeader.X_FORWARDED_FOR
    assert (settings.login_max_failures, settings.login_window_seconds) == (5, 900)
    assert (settings.login_max_failures_per_address, settings.login_max_failures_per_account) == (10, 50)


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


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("true", True), ("auto", "auto")])
def test_secure_cookies_setting(monkeypatch: pytest.MonkeyPatch, value: str, expected: object) -> None:
    monkeypatch.setenv("REVIEW_SECURE_COOKIES", value)
    assert ReviewSettings().secure_cookies == expected


def test_trusted_proxies_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEW_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 ::1,2001:db8::/32")
    monkeypatch.setenv("REVIEW_PROXY_CLIENT_HEADER", "forwarded")
    settings = ReviewSettings()
    assert settings.trusted_proxies == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
        ip_network("2001:db8::/32"),
    )
    assert settings.proxy_client_header is ClientHeader.FORWARDED
    monkeypatch.setenv("REVIEW_TRUSTED_PROXIES", "")
    assert ReviewSettings().trusted_proxies == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REVIEW_TRUSTED_PROXIES", "*"),  # "trust everyone" is not a list of proxies
        ("REVIEW_TRUSTED_PROXIES", "proxy.internal"),
        ("REVIEW_TRUSTED_PROXIES", "10.0.0.1/8"),
        ("REVIEW_PROXY_CLIENT_HEADER", "x-client-ip"),
        ("REVIEW_SECURE_COOKIES", "sometimes"),
        ("REVIEW_LOGIN_MAX_FAILURES_PER_ADDRESS", "0"),
    ],
)
def test_bad_security_settings_stop_the_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ReviewSettings()


def test_timezone_is_checked() -> None:
    with pytest.raises(ValidationError):
        ReviewSettings(timezone="Mars/Olympus")
    makassar = ReviewSettings(timezone="Asia/Makassar")
    assert makassar.utc_offset(datetime(2026, 1, 1, tzinfo=UTC)) == timedelta(hours=8)
