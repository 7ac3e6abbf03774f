"""rasa_project/endpoints.yml as Rasa reads it: the action server's token goes with every call."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import read_endpoint_config

ENDPOINTS = Path(__file__).resolve().parents[2] / "rasa_project" / "endpoints.yml"


def test_rasa_sends_the_action_server_token_as_a_bearer_header(every_variable: pytest.MonkeyPatch) -> None:
    """A quoted value would reach the action server as the literal text ``${ACTION_SERVER_TOKEN}``."""
    monkeypatch = every_variable
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "s3cret-token-value")
    config = read_endpoint_config(str(ENDPOINTS), "action_endpoint")
    assert config is not None
    assert config.url == "http://127.0.0.1:5055/webhook"
    assert config.headers == {"Authorization": "Bearer s3cret-token-value"}
    assert config.token is None  # a query-string token would end up in access logs


def test_one_rasa_process_locks_in_memory_by_default(every_variable: pytest.MonkeyPatch) -> None:
    assert isinstance(LockStore.create(read_endpoint_config(str(ENDPOINTS), "lock_store")), InMemoryLockStore)


def test_several_share_rasa_s_redis_lock_store_as_configured(every_variable: pytest.MonkeyPatch) -> None:
    every_variable.setenv("LOCK_STORE_TYPE", "redis")
    every_variable.setenv("LOCK_STORE_HOST", "10.1.2.3")
    every_variable.setenv("LOCK_STORE_PORT", "6380")
    every_variable.setenv("LOCK_STORE_DB", "4")
    store = LockStore.create(read_endpoint_config(str(ENDPOINTS), "lock_store"))
    assert isinstance(store, RedisLockStore)  # connects lazily: no Redis needed here
    settings = store.red.connection_pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"], settings.get("password")) == (
        "10.1.2.3",
        6380,
        4,
        "",
    )
    assert store.key_prefix.startswith("tanyavaksin")


def test_the_tracker_database_may_be_postgresql_on_another_host(every_variable: pytest.MonkeyPatch) -> None:
    every_variable.setenv("TRACKER_DB_DIALECT", "postgresql")
    every_variable.setenv("TRACKER_DB_HOST", "db.internal:5433")
    every_variable.setenv("TRACKER_DB", "tanyavaksin")
    every_variable.setenv("TRACKER_DB_USER", "rasa")
    config = read_endpoint_config(str(ENDPOINTS), "tracker_store")
    assert config is not None
    url = SQLTrackerStore.get_db_url(
        config.kwargs["dialect"], config.url, None, config.kwargs["db"], config.kwargs["username"],
        config.kwargs["password"],
    )  # fmt: skip
    assert (url.host, url.port, url.database, url.username) == ("db.internal", 5433, "tanyavaksin", "rasa")
