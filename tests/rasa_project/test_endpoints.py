"""rasa_project/endpoints.yml as Rasa reads it: the action server's token goes with every call."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.utils.endpoints import read_endpoint_config

ENDPOINTS = Path(__file__).resolve().parents[2] / "rasa_project" / "endpoints.yml"


def test_rasa_sends_the_action_server_token_as_a_bearer_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quoted value would reach the action server as the literal text ``${ACTION_SERVER_TOKEN}``."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "s3cret-token-value")
    monkeypatch.setenv("TRACKER_DB_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    config = read_endpoint_config(str(ENDPOINTS), "action_endpoint")
    assert config is not None
    assert config.url == "http://127.0.0.1:5055/webhook"
    assert config.headers == {"Authorization": "Bearer s3cret-token-value"}
    assert config.token is None  # a query-string token would end up in access logs
