"""Remembering which WhatsApp messages were already handled.

Meta redelivers a webhook it thinks failed (for days), and with several Rasa
instances behind a load balancer the redelivery may land on another instance, or
on one restarted since. So "seen" lives in a shared store with an expiry: by
default a table in the tracker database (SQLite on the embedded setup, nothing
but Python needed), or Redis when ``seen_store_url`` says ``redis://``.

Keys are already keyed hashes of the message ids (see ``privacy``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rasa_project.channels.expiring_table import ExpiringTable

logger = logging.getLogger(__name__)

TABLE_NAME = "whatsapp_seen_messages"
# Meta retries failed deliveries for up to 7 days; a day more covers clock skew and slow retries.
DEFAULT_TTL_SECONDS = 8 * 24 * 3600
PURGE_EVERY_SECONDS = 3600.0
REDIS_KEY_PREFIX = "tanyavaksin:whatsapp:seen:"

Clock = Callable[[], float]


class SeenMessages(Protocol):
    async def first_time(self, key: str) -> bool:
        """True exactly once per key within the expiry, across every instance sharing the store."""
        ...

    async def close(self) -> None: ...


class InMemorySeenMessages:
    """Only for a tracker store without SQL: forgets on restart, not shared between instances."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Clock = time.time) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._expiry: dict[str, float] = {}

    async def first_time(self, key: str) -> bool:
        now = self._clock()
        if self._expiry.get(key, 0.0) > now:
            return False
        self._expiry = {k: v for k, v in self._expiry.items() if v > now}
        self._expiry[key] = now + self._ttl
        return True

    async def close(self) -> None:
        self._expiry.clear()


class SqlSeenMessages:
    """A table of (key, expires_at); the primary key makes the claim atomic across instances."""

    def __init__(
        self,
        engine: Engine,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Clock = time.time,
        owns_engine: bool = False,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._clock = clock
        self._owns_engine = owns_engine
        self._table = sa.Table(
            TABLE_NAME,
            sa.MetaData(),
            sa.Column("message_key", sa.String(64), primary_key=True),
            sa.Column("expires_at", sa.Float, nullable=False, index=True),
        )
        self._rows = ExpiringTable(engine, self._table, PURGE_EVERY_SECONDS, clock)

    def _claim(self, key: str) -> bool:
        now = self._clock()
        table = self._table
        try:
            with self._engine.begin() as connection:
                connection.execute(table.insert().values(message_key=key, expires_at=now + self._ttl))
            return True
        except IntegrityError:
            pass
        # Seen before: only an expired entry may be claimed again (and only by one instance).
        with self._engine.begin() as connection:
            renewed = connection.execute(
                table.update()
                .where(table.c.message_key == key, table.c.expires_at <= now)
                .values(expires_at=now + self._ttl)
            )
        return bool(renewed.rowcount == 1)

    def _first_time(self, key: str) -> bool:
        claimed = self._claim(key)
        self._rows.purge_if_due()
        return claimed

    async def first_time(self, key: str) -> bool:
        # A blocking database call: keep it off the event loop that answers webhooks.
        return await asyncio.to_thread(self._first_time, key)

    async def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()


class RedisSeenMessages:
    """``SET key NX EX ttl``: atomic, shared, and Redis does the expiry."""

    def __init__(self, url: str, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        import redis.asyncio as redis_asyncio

        self._redis: Any = redis_asyncio.from_url(url)
        self._ttl = max(1, int(ttl_seconds))

    async def first_time(self, key: str) -> bool:
        return bool(await self._redis.set(REDIS_KEY_PREFIX + key, 1, nx=True, ex=self._ttl))

    async def close(self) -> None:
        await self._redis.close()


def sql_engine_of(tracker_store: object) -> Engine | None:
    """The SQL engine under Rasa's tracker store wrappers (FailSafe, Awaitable), if it is SQL."""
    current: object | None = tracker_store
    for _ in range(5):
        if current is None:
            return None
        engine = getattr(current, "engine", None)
        if isinstance(engine, Engine):
            return engine
        current = getattr(current, "_tracker_store", None)
    return None


def open_seen_messages(url: str, ttl_seconds: float, tracker_store: object | None) -> SeenMessages:
    """The store named by ``url``; empty means the tracker database (in memory if it is not SQL)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisSeenMessages(url, ttl_seconds)
    if url:
        return SqlSeenMessages(sa.create_engine(url), ttl_seconds, owns_engine=True)
    engine = sql_engine_of(tracker_store)
    if engine is not None:
        return SqlSeenMessages(engine, ttl_seconds)
    logger.warning(
        "The tracker store is not SQL and no seen_store_url is set: handled WhatsApp message ids are kept "
        "in memory only, so redeliveries after a restart or to another instance are answered again."
    )
    return InMemorySeenMessages(ttl_seconds)
