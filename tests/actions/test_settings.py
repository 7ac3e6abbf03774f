"""Settings come from the environment; a missing secret is named, never shown."""

from __future__ import annotations

import pytest

from actions.settings import SettingsError, load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", "secret-token-value")
    monkeypatch.setenv("REGISTRY_URL", "http://registry:8077")
    monkeypatch.setenv("REGISTRY_RETRIES", "1")
    settings = load_settings()
    assert settings.registry_url == "http://registry:8077"
    assert settings.registry_retries == 1
    assert settings.registry_read_timeout_seconds == 5.0
    assert "secret-token-value" not in repr(settings)


def test_the_seal_key_is_derived_from_the_token_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", "secret-token-value")
    monkeypatch.delenv("SCHEDULE_SLOT_KEY", raising=False)
    derived = load_settings().seal_key()
    assert derived != b"secret-token-value" and len(derived) == 32
    monkeypatch.setenv("SCHEDULE_SLOT_KEY", "another-key")
    assert load_settings().seal_key() == b"another-key"


def test_a_missing_token_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_SERVICE_TOKEN", raising=False)
    with pytest.raises(SettingsError, match="REGISTRY_SERVICE_TOKEN"):
        load_settings()


def test_a_wrong_value_is_named_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", "secret-token-value")
    monkeypatch.setenv("REGISTRY_RETRIES", "many")
    with pytest.raises(SettingsError, match="REGISTRY_RETRIES") as raised:
        load_settings()
    assert "secret-token-value" not in str(raised.value)
