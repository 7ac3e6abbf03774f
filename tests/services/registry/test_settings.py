from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.registry.settings import (
    DEFAULT_DATABASE_URL,
    REPO_ROOT,
    DatabaseSettings,
    RegistrySettings,
    describe_settings_error,
)

TOKEN = "a-service-token-of-some-length"
KEY = "an-audit-hash-key-of-some-length"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SERVICE_TOKEN", "AUDIT_HASH_KEY", "LOCKOUT_MAX_FAILURES", "TIMEZONE"):
        monkeypatch.delenv(f"REGISTRY_{name}", raising=False)


def test_database_defaults_to_a_sqlite_file_in_the_run_folder() -> None:
    assert DatabaseSettings().database_url == DEFAULT_DATABASE_URL
    expected = f"sqlite:///{REPO_ROOT}/.run/registry.db"
    assert expected == DEFAULT_DATABASE_URL


def test_secrets_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as raised:
        RegistrySettings()  # type: ignore[call-arg]
    description = describe_settings_error(raised.value)
    assert "REGISTRY_SERVICE_TOKEN" in description
    assert "REGISTRY_AUDIT_HASH_KEY" in description


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", TOKEN)
    monkeypatch.setenv("REGISTRY_AUDIT_HASH_KEY", KEY)
    monkeypatch.setenv("REGISTRY_LOCKOUT_MAX_FAILURES", "3")
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql://registry@db/registry")
    settings = RegistrySettings()  # type: ignore[call-arg]
    assert settings.service_token.get_secret_value() == TOKEN
    assert settings.lockout_max_failures == 3
    assert (settings.lockout_window_seconds, settings.lockout_seconds) == (3600, 3600)
    assert settings.database_url == "postgresql://registry@db/registry"
    assert TOKEN not in repr(settings) and KEY not in repr(settings)


def test_short_secrets_are_refused_without_echoing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", "tiny-secret")
    monkeypatch.setenv("REGISTRY_AUDIT_HASH_KEY", KEY)
    with pytest.raises(ValidationError) as raised:
        RegistrySettings()  # type: ignore[call-arg]
    description = describe_settings_error(raised.value)
    assert "REGISTRY_SERVICE_TOKEN" in description
    assert "tiny-secret" not in description


def test_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_TIMEZONE", "Asia/Atlantis")
    with pytest.raises(ValidationError):
        DatabaseSettings()
