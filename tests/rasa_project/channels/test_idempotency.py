"""A message id is handled once: across restarts and instances sharing the store, until it expires."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from rasa_project.channels.idempotency import (
    InMemorySeenMessages,
    RedisSeenMessages,
    SqlSeenMessages,
    open_seen_messages,
    sql_engine_of,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


async def test_sql_store_says_first_time_once(tmp_path: Path) -> None:
    store = open_seen_messages(sqlite_url(tmp_path), 60, None)
    assert isinstance(store, SqlSeenMessages)
    assert await store.first_time("a")
    assert not await store.first_time("a")
    assert await store.first_time("b")
    await store.close()


async def test_sql_store_remembers_across_restarts_and_instances(tmp_path: Path) -> None:
    first = open_seen_messages(sqlite_url(tmp_path), 60, None)
    assert await first.first_time("a")
    await first.close()
    second = open_seen_messages(sqlite_url(tmp_path), 60, None)
    third = open_seen_messages(sqlite_url(tmp_path), 60, None)
    assert not await second.first_time("a")
    assert not await third.first_time("a")
    await second.close()
    await third.close()


async def test_concurrent_claims_let_exactly_one_through(tmp_path: Path) -> None:
    stores = [open_seen_messages(sqlite_url(tmp_path), 60, None) for _ in range(3)]
    results = await asyncio.gather(*(store.first_time("same") for store in stores for _ in range(3)))
    assert results.count(True) == 1
    for store in stores:
        await store.close()


async def test_sql_entries_expire_and_are_purged(tmp_path: Path) -> None:
    clock = Clock()
    engine = sa.create_engine(sqlite_url(tmp_path))
    store = SqlSeenMessages(engine, ttl_seconds=10, clock=clock)
    assert await store.first_time("a")
    clock.now += 5
    assert not await store.first_time("a")
    clock.now += 11
    assert await store.first_time("a")  # expired: the id counts as new again
    clock.now += 4000
    assert await store.first_time("b")  # triggers the hourly purge of expired keys
    with engine.connect() as connection:
        keys = [
            row[0] for row in connection.execute(sa.text("SELECT message_key FROM whatsapp_seen_messages"))
        ]
    assert keys == ["b"]


async def test_empty_url_uses_the_tracker_database(tmp_path: Path) -> None:
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, SQLTrackerStore

    tracker_store = FailSafeTrackerStore(
        AwaitableTrackerStore(SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db")))
    )
    engine = sql_engine_of(tracker_store)
    assert engine is not None and str(engine.url).endswith("tracker.db")
    store = open_seen_messages("", 60, tracker_store)
    assert isinstance(store, SqlSeenMessages)
    assert await store.first_time("a")
    assert sa.inspect(engine).has_table("whatsapp_seen_messages")


async def test_without_sql_tracker_store_it_falls_back_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    store = open_seen_messages("", 60, object())
    assert isinstance(store, InMemorySeenMessages)
    assert "in memory only" in caplog.text
    assert await store.first_time("a")
    assert not await store.first_time("a")


async def test_in_memory_entries_expire() -> None:
    clock = Clock()
    store = InMemorySeenMessages(ttl_seconds=10, clock=clock)
    assert await store.first_time("a")
    clock.now += 11
    assert await store.first_time("a")


async def test_redis_store_when_redis_is_there() -> None:
    url = "redis://127.0.0.1:6379/15"
    store = open_seen_messages(url, 60, None)
    assert isinstance(store, RedisSeenMessages)
    try:
        await store._redis.ping()
    except Exception:
        await store.close()
        pytest.skip("no Redis at 127.0.0.1:6379")
    key = f"unit-test-{asyncio.get_running_loop().time()}"
    try:
        assert await store.first_time(key)
        assert not await store.first_time(key)
        other = open_seen_messages(url, 60, None)
        assert not await other.first_time(key)
        await other.close()
        assert 0 < await store._redis.ttl(f"tanyavaksin:whatsapp:seen:{key}") <= 60
    finally:
        await store._redis.delete(f"tanyavaksin:whatsapp:seen:{key}")
        await store.close()
